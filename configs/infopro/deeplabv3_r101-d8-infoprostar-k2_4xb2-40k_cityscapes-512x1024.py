# Copyright (c) dynamicnet contributors. All rights reserved.
# InfoPro*, K=2, DeepLab-V3 R101-d8 on Cityscapes (512×1024, batch 8): module 1 = stem + layer1
# + layer2 + layer3[0..12] (1024 channels at stride 8); module 2 = layer3[13..22] + layer4 +
# ASPP head + FCN auxiliary head. Local loss = 1.5 · BCE reconstruction + 1 · CE of `head_inter`
# [official config]. Import the segmentation wrapper through dynamicnet.models.seg.
_base_ = './deeplabv3_r101-d8_4xb2-40k_cityscapes-512x1024.py'
custom_imports = dict(imports=['dynamicnet.models.seg'], allow_failed_imports=False)
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    type='dynamicnet.InfoProEncoderDecoder',
    split='resnetv1c101_cityscapes_k2',
    loss_weights=dict(ixx_1=1.5, ixy_1=1.0),
    decoder=dict(
        type='dynamicnet.InfoProProgressiveDecoder', channels=(128, 32, 12), norm_cfg=norm_cfg),
    local_head=dict(
        type='FCNHead',
        channels=512,
        num_convs=1,
        concat_input=False,
        dropout_ratio=0.1,
        num_classes=19,
        norm_cfg=norm_cfg,
        align_corners=False,
        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0)))
model_wrapper_cfg = dict(type='dynamicnet.InfoProDistributedDataParallel')
