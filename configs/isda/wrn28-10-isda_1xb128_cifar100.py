# Copyright (c) dynamicnet contributors. All rights reserved.
# ISDA on CIFAR-100: WRN-28-10 (dropout 0.3 as in the official README commands, 36.5 M parameters);
# full class-conditional covariance (100 x 640 x 640), lambda0 = 0.5, lambda = lambda0 * epoch /
# max_epochs (spec isda.md §5-6).
_base_ = ['./wrn28-10_1xb128_cifar100.py']
model = dict(
    head=dict(
        type='dynamicnet.ISDALinearClsHead',
        isda_cfg=dict(lambda0=0.5, covariance='full', schedule='epoch')))
