# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocusV2 (end-to-end), P = 128, ActivityNet: differentiable crops, STN policy (GRU 2048),
# MLP + running-max classifier, loss over policy and random patches with per-frame glancer/focuser
# supervision; one stage from ImageNet backbones. SGD lr 0.002, cosine, 50 epochs, 4 GPUs x 8;
# lr multipliers policy 0.1, glancer 0.5, classifier 5.0 (official scripts/train.sh; momentum and
# weight decay [unconfirmed]).
_base_ = [
    './_base_/activitynet_rawframes.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(
    type='dynamicnet.AdaFocusV2',
    global_backbone=dict(
        type='mmpretrain.MobileNetV2',
        widen_factor=1.0,
        out_indices=(7, ),
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/mobilenet_v2/'
            'mobilenet_v2_batch256_imagenet_20200708-3b2dc3af.pth')),
    local_backbone=dict(
        type='mmpretrain.ResNet',
        depth=50,
        out_indices=(3, ),
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/resnet/'
            'resnet50_8xb32_in1k_20210831-ea4938fc.pth')),
    global_channels=1280,
    local_channels=2048,
    num_classes=200,
    num_segments=16,
    patch_size=128,
    input_size=224,
    policy=dict(hidden_dim=2048, reduced_channels=64),
    cls_head=dict(hidden_dim=4096, dropout=0.8),
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),
    test_cfg=dict(cost_input_shape=(16, 3, 224, 224)),
)
train_dataloader = dict(batch_size=8)
val_dataloader = dict(batch_size=8)
test_dataloader = val_dataloader
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.002, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(
        custom_keys={
            'policy': dict(lr_mult=0.1),
            'global_backbone': dict(lr_mult=0.5),
            'cls_head': dict(lr_mult=5.0),
        }))
param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, T_max=50, convert_to_iter_based=False)
train_cfg = dict(by_epoch=True, max_epochs=50, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=32)
