# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline twin of deeplabv3_r18-d8-isda_tiny-cityscapes.py (mmseg's heads, plain cross-entropy).
_base_ = ['./deeplabv3_r18-d8-isda_tiny-cityscapes.py']
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    decode_head=dict(_delete_=True, type='ASPPHead', in_channels=512, in_index=3, channels=64,
                     dilations=(1, 12, 24, 36), dropout_ratio=0.1, num_classes=19,
                     norm_cfg=norm_cfg, align_corners=False,
                     loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                      loss_weight=1.0)),
    auxiliary_head=dict(_delete_=True, type='FCNHead', in_channels=256, in_index=2, channels=32,
                        num_convs=1, concat_input=False, dropout_ratio=0.1, num_classes=19,
                        norm_cfg=norm_cfg, align_corners=False,
                        loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False,
                                         loss_weight=0.4)))
