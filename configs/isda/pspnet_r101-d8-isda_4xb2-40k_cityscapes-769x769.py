# Copyright (c) dynamicnet contributors. All rights reserved.
# Per-pixel ISDA on Cityscapes, PSPNet ResNet-101-D8 (spec isda.md §6.3; TPAMI Table 7: 77.46 ->
# 78.72 mIoU single scale): diagonal covariance, lambda0 = 7.5, per-iteration schedule, separate
# estimators for the PSP head and the auxiliary FCN head.
_base_ = ['./pspnet_r101-d8_4xb2-40k_cityscapes-769x769.py']
isda_cfg = dict(lambda0=7.5, covariance='diagonal', schedule='iter')
model = dict(
    decode_head=dict(type='dynamicnet.ISDAPSPHead', isda_cfg=isda_cfg),
    auxiliary_head=dict(type='dynamicnet.ISDAFCNHead', isda_cfg=isda_cfg))
