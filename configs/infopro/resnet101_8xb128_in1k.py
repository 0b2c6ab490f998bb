# Copyright (c) dynamicnet contributors. All rights reserved.
# End-to-end ResNet-101 on ImageNet with InfoPro's recipe (8 GPUs × 128 = batch 1024, lr 0.4,
# SGD Nesterov, wd 1e-4, cosine per epoch, 90 epochs): the twin of
# resnet101-infoprostar-k2_8xb128_in1k.py.
_base_ = [
    'mmpretrain::_base_/models/resnet101.py',
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    'mmpretrain::_base_/default_runtime.py',
]
train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.4, momentum=0.9, weight_decay=1e-4, nesterov=True))
param_scheduler = dict(type='CosineAnnealingLR', T_max=90, by_epoch=True, begin=0, end=90,
                       convert_to_iter_based=False)
train_cfg = dict(by_epoch=True, max_epochs=90, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=1024)
