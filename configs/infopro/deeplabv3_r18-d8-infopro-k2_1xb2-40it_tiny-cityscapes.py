# Copyright (c) dynamicnet contributors. All rights reserved.
# InfoPro, K=2, DeepLab-V3 R18-d8 on the tiny Cityscapes: mirrors the Cityscapes R101 split (end
# module 1 inside layer3, after layer3[0] of ResNet-18's two blocks), with the official
# Cityscapes decoder / FCN local head and (λ1, λ2) = (1.5, 1).
_base_ = './deeplabv3_r18-d8_1xb2-40it_tiny-cityscapes.py'
custom_imports = dict(imports=['dynamicnet.models.seg'], allow_failed_imports=False)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    type='dynamicnet.InfoProEncoderDecoder',
    split=[[3, 0]],
    loss_weights=dict(ixx_1=1.5, ixy_1=1.0),
    decoder=dict(
        type='dynamicnet.InfoProProgressiveDecoder', channels=(128, 32, 12), norm_cfg=norm_cfg),
    local_head=dict(
        type='FCNHead',
        channels=64,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
model_wrapper_cfg = dict(type='dynamicnet.InfoProDistributedDataParallel')
