# Copyright (c) dynamicnet contributors. All rights reserved.
# InfoPro (equal-depth split), ResNet-32, K=16, contrast local loss, cifar10.
# Loss weights (ixx = reconstruction λ1, ixy = task λ2, first → last local module):
# [official config `comand.sh`].
_base_ = './resnet32_1xb1024_cifar10.py'
model = dict(
    type='dynamicnet.InfoProClassifier',
    split='resnet32_k16',
    loss_weights=dict(ixx_1=5, ixy_1=0.05, ixx_2=0.2, ixy_2=0.5),
    decoder=dict(type='dynamicnet.InfoProDecoder', widen=1),
    local_head=dict(type='dynamicnet.InfoProAuxHead', arch='1c2f', feat_dim=128, out_channels=128),
    local_loss=dict(type='dynamicnet.SupConLoss', temperature=0.07, base_temperature=0.07))
# Distributed runs: InfoPro back-propagates inside train_step, so it needs its own DDP wrapper.
model_wrapper_cfg = dict(type='dynamicnet.InfoProDistributedDataParallel')
