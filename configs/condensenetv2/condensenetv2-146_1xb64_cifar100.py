# Copyright (c) dynamicnet contributors. All rights reserved.
# CondenseNetV2-146 on CIFAR-100; [unconfirmed] choices as condensenetv2-110_1xb64_cifar10.py.
_base_ = ['./condensenetv2-110_1xb64_cifar100.py']

model = dict(backbone=dict(arch='cifar-146'), head=dict(in_channels=1360))
