# Copyright (c) dynamicnet contributors. All rights reserved.
# InfoPro, ResNet-32, K=4, contrast local loss, on the tiny ImageNet-style folders (quick CPU
# runs; the loss weights are the CIFAR-10 ResNet-32 K=4 ones).
_base_ = './resnet32_1xb16_tiny-imagenet.py'
model = dict(
    type='dynamicnet.InfoProClassifier',
    split='resnet32_k4',
    loss_weights=dict(ixx_1=6, ixy_1=0, ixx_2=1, ixy_2=2),
    decoder=dict(type='dynamicnet.InfoProDecoder', widen=1),
    local_head=dict(
        type='dynamicnet.InfoProAuxHead', arch='1c2f', feat_dim=128, out_channels=128),
    local_loss=dict(type='dynamicnet.SupConLoss', temperature=0.07, base_temperature=0.07))
model_wrapper_cfg = dict(type='dynamicnet.InfoProDistributedDataParallel')
