# Copyright (c) dynamicnet contributors. All rights reserved.
# InfoPro* (memory-balanced split), ResNet-110, K=4, contrast local loss, stl10.
# Loss weights (ixx = reconstruction λ1, ixy = task λ2, first → last local module):
# [official config `comand.sh`].
_base_ = './resnet110_1xb128_stl10.py'
model = dict(
    type='dynamicnet.InfoProClassifier',
    split='resnet110_k4_balanced_stl10',
    loss_weights=dict(ixx_1=20, ixy_1=0.5, ixx_2=10, ixy_2=1),
    decoder=dict(type='dynamicnet.InfoProDecoder', widen=1),
    local_head=dict(type='dynamicnet.InfoProAuxHead', arch='1c2f', feat_dim=128, out_channels=128),
    local_loss=dict(type='dynamicnet.SupConLoss', temperature=0.07, base_temperature=0.07))
# Distributed runs: InfoPro back-propagates inside train_step, so it needs its own DDP wrapper.
model_wrapper_cfg = dict(type='dynamicnet.InfoProDistributedDataParallel')
