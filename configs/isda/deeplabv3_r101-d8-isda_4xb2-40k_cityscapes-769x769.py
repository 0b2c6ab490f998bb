# Copyright (c) dynamicnet contributors. All rights reserved.
# Per-pixel ISDA on Cityscapes, DeepLabV3 ResNet-101-D8 (spec isda.md §6.3; TPAMI Table 7: 78.38 ->
# 79.41 mIoU single scale): diagonal covariance, lambda0 = 7.5, lambda = lambda0 * iter / 40000,
# labels nearest-downsampled to the 1/8 feature map, ignore label 255 as an extra estimator bucket
# with no augmentation, augmentation before the bilinear upsampling, and separate estimators for
# the ASPP head and the auxiliary FCN head (weight 0.4). Only the losses change.
_base_ = ['./deeplabv3_r101-d8_4xb2-40k_cityscapes-769x769.py']
isda_cfg = dict(lambda0=7.5, covariance='diagonal', schedule='iter')
model = dict(
    decode_head=dict(type='dynamicnet.ISDAASPPHead', isda_cfg=isda_cfg),
    auxiliary_head=dict(type='dynamicnet.ISDAFCNHead', isda_cfg=isda_cfg))
