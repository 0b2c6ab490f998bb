# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline twin of resnet50-isda_8xb64-coslr-300e_in1k.py: ResNet-50 on ImageNet with the ISDA
# official ImageNet recipe (spec isda.md §6.2): 8 GPUs x 64 = 512 images, SGD lr 0.2, momentum 0.9,
# weight decay 1e-4, no Nesterov, 300 epochs, cosine per epoch lr = 0.5 lr0 (1 + cos(pi e / E)),
# RandomResizedCrop 224 + flip, test resize 256 + center crop 224.
_base_ = [
    'mmpretrain::_base_/models/resnet50.py', 'mmpretrain::_base_/datasets/imagenet_bs64.py',
    'mmpretrain::_base_/default_runtime.py'
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.2, momentum=0.9, nesterov=False, weight_decay=1e-4))
param_scheduler = dict(type='CosineAnnealingLR', T_max=300, eta_min=0, by_epoch=True, begin=0,
                       end=300)
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
