# Copyright (c) dynamicnet contributors. All rights reserved.
# Asynchronous InfoPro (Asy-InfoPro), ResNet-110, K=2, contrast local loss, CIFAR-10.
# dynamicnet's reconstruction: no official code exists and the paper's protocol is
# [unconfirmed]. Each local module has its own optimizer (one OptimWrapper per module, same
# recipe) and steps right after its own backward; module k consumes the detached output that
# module k-1 produced `staleness` iterations earlier. The loss weights are the synchronous
# K=2 ones [unconfirmed for the asynchronous runs].
_base_ = './resnet110-infopro-k2-contrast_1xb1024_cifar10.py'
model = dict(async_cfg=dict(staleness=1))
optim_wrapper = dict(constructor='dynamicnet.InfoProOptimWrapperConstructor')
