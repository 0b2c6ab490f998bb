# Copyright (c) dynamicnet contributors. All rights reserved.
# Teacher of the CAAM-CAM distillation pair on CIFAR-100: mmpretrain's CIFAR ResNet-50 recipe with a
# plain linear head (global average pooling + fc, so its CAM is defined). Train it first:
#   python tools/train.py configs/camloss/resnet50_8xb16_cifar100_teacher.py
_base_ = ['mmpretrain::resnet/resnet50_8xb16_cifar100.py']
