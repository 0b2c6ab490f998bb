# Copyright (c) dynamicnet contributors. All rights reserved.
# End-to-end DeepLab-V3 R101-d8 on Cityscapes (mmseg's config, batch 8 = 4 GPUs × 2, 40k
# iterations): the twin of deeplabv3_r101-d8-infoprostar-k2_4xb2-40k_cityscapes-512x1024.py.
# `pretrained` is None so the config builds offline; set it to 'open-mmlab://resnet101_v1c'
# (ImageNet weights, as in the paper) to reproduce.
_base_ = 'mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-40k_cityscapes-512x1024.py'
model = dict(pretrained=None)
