# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline twin of pspnet_r101-d8-isda_4xb2-40k_cityscapes-769x769.py: mmseg's PSPNet
# ResNet-101-D8 on Cityscapes with the same recipe as the DeepLabV3 pair (769x769 crops, 4 GPUs x 2,
# 40k iterations, align_corners=True). Pretrained weights are not downloaded by default; pass
#   --cfg-options model.pretrained=open-mmlab://resnet101_v1c
_base_ = ['mmseg::pspnet/pspnet_r101-d8_4xb2-40k_cityscapes-769x769.py']
model = dict(pretrained=None)
