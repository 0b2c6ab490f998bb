# Copyright (c) dynamicnet contributors. All rights reserved.
# A small MSDNet (3 blocks, 3 scales, CIFAR stem) on the tiny ImageNet-style class folders
# (32x32 PNGs, 6 classes; python tools/dataset_converters/make_tiny_data.py imagenet
# --out data/tiny/imagenet). A quarter of the training images is held out (test pipeline) to fit
# the exit thresholds. Tiny data: a smoke test of the whole protocol, not a result.
_base_ = [
    '../_base_/datasets/tiny_imagenet.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(
    type='dynamicnet.EarlyExitClassifier',
    backbone=dict(
        type='dynamicnet.MSDNet',
        num_blocks=3,
        step_mode='even',
        step=1,
        base=1,
        channels=16,
        growth_rate=6,
        gr_factor=(1, 2, 4),
        bn_factor=(1, 2, 4),
        stem='cifar'),
    exit_head=dict(type='dynamicnet.MSDNetExitHead', num_classes=6, inter_channels=32),
    loss=dict(type='mmpretrain.CrossEntropyLoss'),
    test_cfg=dict(cost_input_shape=(3, 32, 32)),
)

tiny_train = dict(
    type='CustomDataset',
    data_root='data/tiny/imagenet',
    data_prefix='train',
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0)),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ])
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='dynamicnet.HoldoutSplit',
        dataset=tiny_train,
        num_holdout=0.25,
        split='train',
        seed=0))
fit_dataloader = dict(
    batch_size=16,
    num_workers=0,
    dataset=dict(
        type='dynamicnet.HoldoutSplit',
        dataset=dict(
            tiny_train,
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='ResizeEdge', scale=36, edge='short'),
                dict(type='CenterCrop', crop_size=32),
                dict(type='PackInputs'),
            ]),
        num_holdout=0.25,
        split='holdout',
        seed=0),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='dynamicnet.EarlyExitMetric', budget=False),
]
test_evaluator = dict(
    _delete_=True,
    type='dynamicnet.EarlyExitMetric',
    fit_set='tiny train holdout 25%, test pipeline')
test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit_dataloader)

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=30)
train_cfg = dict(by_epoch=True, max_epochs=30, val_interval=10)
val_cfg = dict()
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10))
randomness = dict(seed=0)
# per-exit cumulative MACs in every checkpoint's meta
custom_hooks = [dict(type='dynamicnet.ExitCostsHook')]
