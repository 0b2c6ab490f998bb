# Copyright (c) dynamicnet contributors. All rights reserved.
# ISDA on CIFAR-100: ResNet-110 (He et al. CIFAR ResNet, 1.7 M parameters); full class-conditional
# covariance (100 x 64 x 64), lambda0 = 0.5, lambda = lambda0 * epoch / max_epochs (spec isda.md
# §5-6).
_base_ = ['./resnet110_1xb128_cifar100.py']
model = dict(
    head=dict(
        type='dynamicnet.ISDALinearClsHead',
        isda_cfg=dict(lambda0=0.5, covariance='full', schedule='epoch')))
