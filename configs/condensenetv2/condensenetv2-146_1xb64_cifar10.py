# Copyright (c) dynamicnet contributors. All rights reserved.
# CondenseNetV2-146 on CIFAR-10: 3 blocks of 24 layers (6N + 2 convention) [unconfirmed]; other
# choices as condensenetv2-110_1xb64_cifar10.py.
_base_ = ['./condensenetv2-110_1xb64_cifar10.py']

model = dict(backbone=dict(arch='cifar-146'), head=dict(in_channels=1360))
