# Copyright (c) dynamicnet contributors. All rights reserved.
# RetinaNet + FPN with a CondenseNetV2-A backbone on COCO (the official README reports RetinaNet
# only for C: 31.7 mAP). Backbone outputs, schedule and condensation as in
# faster-rcnn_condensenetv2-a_fpn_1x_coco.py [unconfirmed]; FPN starts at stride 8 with extra
# convs on the input, as mmdet's RetinaNet-R50.
_base_ = 'mmdet::retinanet/retinanet_r50_fpn_1x_coco.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='dynamicnet.CondenseNetV2',
        arch='a',
        out_indices=(1, 2, 3, 4),
        frozen_stages=-1,
        norm_eval=False,
        init_cfg=None),
    neck=dict(in_channels=[32, 96, 288, 800]))

custom_hooks = [dict(type='dynamicnet.CondensationHook')]
