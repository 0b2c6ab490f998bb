# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny-data variant for CPU smoke runs and tests: a 3-exit DVT with miniature T2T-ViT exits
# (2 layers, 64-d, 2 heads) on dynamicnet's tiny ImageNet-style folders (6 classes, 32x32 images
# upsampled to 56x56). The first soft splits give 4x4, 5x5 and 7x7 tokens (14 -> 4, 19 -> 5,
# 28 -> 7 after two 3/2/1 splits): the real model's 7 -> 10 -> 14 cascade at half resolution,
# so both reuse paths resample between unequal grids. (112x112 input with the same splits gives
# the real 7x7 / 10x10 / 14x14 grids at about 4x the cost.)
#   python tools/dataset_converters/make_tiny_data.py imagenet --out data/tiny/imagenet
#   python tools/train.py configs/dvt/dvt_t2t-vit-tiny_1xb16_tiny-imagenet.py
_base_ = [
    '../_base_/datasets/tiny_imagenet.py',
    'mmpretrain::_base_/default_runtime.py',
]

img_size = 56
exit_common = dict(
    type='dynamicnet.DVTT2TViT',
    arch=dict(embed_dims=64, num_layers=2, num_heads=2, mlp_ratio=2),
    img_size=img_size,
    token_dims=16,
    t2t_drop_rate=0.0,
    reuse_channels=16,
    reuse_hidden_channels=32,
)
model = dict(
    type='dynamicnet.DVT',
    backbones=[
        dict(**exit_common, soft_split0=(7, 4, 2)),
        dict(**exit_common, soft_split0=(5, 3, 2), feature_reuse=True, relation_reuse=True),
        dict(**exit_common, soft_split0=(4, 2, 1), feature_reuse=True, relation_reuse=True),
    ],
    head=dict(
        type='mmpretrain.VisionTransformerClsHead',
        num_classes={{_base_.num_classes}},
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02)),
    test_cfg=dict(cost_input_shape=(3, img_size, img_size)),
)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=img_size, crop_ratio_range=(0.5, 1.0)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=img_size),
    dict(type='PackInputs'),
]
# a quarter of the training images is held out (test pipeline) to fit the exit thresholds
tiny_train = dict(type={{_base_.dataset_type}}, data_root={{_base_.data_root}}, data_prefix='train')
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='dynamicnet.HoldoutSplit',
        dataset=dict(tiny_train, pipeline=train_pipeline),
        num_holdout=0.25,
        split='train',
        seed=0))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
fit_dataloader = dict(
    batch_size=16,
    num_workers=0,
    dataset=dict(
        type='dynamicnet.HoldoutSplit',
        dataset=dict(tiny_train, pipeline=test_pipeline),
        num_holdout=0.25,
        split='holdout',
        seed=0),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='dynamicnet.EarlyExitMetric', budget=False),
]
test_evaluator = dict(
    _delete_=True,
    type='dynamicnet.EarlyExitMetric',
    p_range=(1, 60),
    fit_set='tiny train holdout 25%, test pipeline')
test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit_dataloader)

optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.03),
    paramwise_cfg=dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0, custom_keys={'.cls_token': dict(decay_mult=0.0)}))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=30, eta_min=1e-5, by_epoch=True)]
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=10)
val_cfg = dict()
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10))
randomness = dict(seed=0)
