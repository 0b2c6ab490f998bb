# Copyright (c) dynamicnet contributors. All rights reserved.
# InfoPro*, K=2, ResNet-101 on ImageNet: module 1 = stem + layer1 + layer2[0] (512×28×28 at 224
# px), softmax local loss, (λ1, λ2) = (5, 0.75) [official config]. Decoder and auxiliary head as
# in the official code (../shared/specs/infopro.md §5.2).
_base_ = './resnet101_8xb128_in1k.py'
model = dict(
    type='dynamicnet.InfoProClassifier',
    split='resnet101_imagenet_k2',
    loss_weights=dict(ixx_1=5, ixy_1=0.75),
    decoder=dict(type='dynamicnet.InfoProProgressiveDecoder', channels=(128, 32, 12)),
    local_head=dict(
        type='dynamicnet.InfoProAuxHead',
        arch=None,
        convs=((128, 1, 1), (256, 3, 2), (512, 3, 2), (2048, 1, 1)),
        out_channels=1000),
    local_loss=dict(type='CrossEntropyLoss', loss_weight=1.0))
model_wrapper_cfg = dict(type='dynamicnet.InfoProDistributedDataParallel')
