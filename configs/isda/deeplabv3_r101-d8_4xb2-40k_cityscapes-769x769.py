# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline twin of deeplabv3_r101-d8-isda_4xb2-40k_cityscapes-769x769.py: mmseg's DeepLabV3
# ResNet-101-D8 (deep-stem ResNetV1c, output stride 8) on Cityscapes, 769x769 crops, 4 GPUs x 2,
# 40k iterations, SGD lr 0.01, poly 0.9, weight decay 5e-4, align_corners=True: the recipe of the
# ISDA official Cityscapes code (spec isda.md §6.3). The upstream ImageNet-pretrained weights are
# not downloaded by default (model.pretrained=None); for the recipe pass
#   --cfg-options model.pretrained=open-mmlab://resnet101_v1c
_base_ = ['mmseg::deeplabv3/deeplabv3_r101-d8_4xb2-40k_cityscapes-769x769.py']
model = dict(pretrained=None)
