# Copyright (c) dynamicnet contributors. All rights reserved.
# Faster R-CNN + FPN with a CondenseNetV2-A backbone on COCO (the official README reports 23.5 mAP;
# configs never released, official issue #1). Choices [unconfirmed] (spec condensenetv2.md §7):
# - FPN inputs: outputs of dense blocks 2-5 (out_indices=(1, 2, 3, 4)), strides 4/8/16/32,
#   channels A 32/96/288/800 (B 72/216/600/1176, C 144/400/1040/2064); the last one after the
#   backbone's final BN + ReLU;
# - mmdet 1x schedule at 1333x800 as for ResNet-50 (SGD lr 0.02, batch 16).
# The backbone is the training-time (condensing) network: from scratch it condenses during the
# first half of detection training (CondensationHook); from an ImageNet-trained, fully condensed
# dynamicnet checkpoint (set init_cfg below) its masks stay fixed. After training,
# tools/model_converters/condensenetv2_convert.py turns the detector's backbone into the
# deployable network.
_base_ = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='dynamicnet.CondenseNetV2',
        arch='a',
        out_indices=(1, 2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        # e.g. dict(type='Pretrained', checkpoint='<dynamicnet in1k ckpt>', prefix='backbone.')
        init_cfg=None),
    neck=dict(in_channels=[32, 96, 288, 800]))

custom_hooks = [dict(type='dynamicnet.CondensationHook')]
