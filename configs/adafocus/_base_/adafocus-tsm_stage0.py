# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus-TSM stage 0: train a TSM CNN alone on full frames (average consensus, CE). The official
# Sth-Sth code starts from TSM checkpoints; this is TSM's Something-Something recipe from its
# README (SGD lr 0.01 for batch 64, momentum 0.9, wd 5e-4, 50 epochs, lr x0.1 at 20 and 40,
# gradient-norm clip 20) [unconfirmed: not in the spec].
_base_ = ['./adafocus-tsm_mbv2-r50.py']

model = dict(
    training_stage=0,
    global_backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/mobilenet_v2/'
            'mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth')),
    local_backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/resnet/'
            'resnet50_8xb32_in1k_20210831-ea4938fc.pth')))
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    clip_grad=dict(max_norm=20))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[20, 40], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=50, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
