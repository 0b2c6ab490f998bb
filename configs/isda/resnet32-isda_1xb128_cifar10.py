# Copyright (c) dynamicnet contributors. All rights reserved.
# ISDA on CIFAR-10: ResNet-32 (He et al. CIFAR ResNet, 0.5 M parameters); full class-conditional
# covariance (10 x 64 x 64), lambda0 = 0.5, lambda = lambda0 * epoch / max_epochs (spec isda.md
# §5-6).
_base_ = ['./resnet32_1xb128_cifar10.py']
model = dict(
    head=dict(
        type='dynamicnet.ISDALinearClsHead',
        isda_cfg=dict(lambda0=0.5, covariance='full', schedule='epoch')))
