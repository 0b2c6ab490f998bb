# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus stage 0 (initialisation), part 1: fine-tune the ImageNet MobileNetV2 glancer alone on
# full 224x224 frames with a per-frame Dropout(0.2) + Linear head; video logits = mean over the
# 16 frames. SGD momentum 0.9, wd 1e-4, lr 0.01, cosine, 15 epochs, 2 GPUs x 32 (official
# pretrain_glancer=true run). The patch size does not matter here.
_base_ = [
    './_base_/adafocus_mbv2-r50.py',
    './_base_/activitynet_rawframes.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(
    training_stage=0,
    init_target='global',
    global_backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/mobilenet_v2/'
            'mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth')))
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, T_max=15, convert_to_iter_based=False)
train_cfg = dict(by_epoch=True, max_epochs=15, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
