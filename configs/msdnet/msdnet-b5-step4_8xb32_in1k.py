# Copyright (c) dynamicnet contributors. All rights reserved.
# MSDNet, ImageNet setting of the official README: --nBlocks 5 --stepmode even --step 4 --base 4
#   --nChannels 32 --growthRate 16 --grFactor 1-2-4-4 --bnFactor 1-2-4-4 --use-valid,
#   90 epochs, batch 256 (8 x 32), SGD lr 0.1 x0.1 every 30 epochs, momentum 0.9, wd 1e-4.
# --use-valid holds out 50,000 training images (seeded random split) for threshold fitting,
# processed with the test pipeline. The released "step=7" model is
#   --cfg-options model.backbone.step=7 model.backbone.base=7
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    'mmpretrain::_base_/schedules/imagenet_bs256.py',
    'mmpretrain::_base_/default_runtime.py',
]

num_holdout = 50000
model = dict(
    type='dynamicnet.EarlyExitClassifier',
    backbone=dict(
        type='dynamicnet.MSDNet',
        num_blocks=5,
        step_mode='even',
        step=4,
        base=4,
        channels=32,
        growth_rate=16,
        gr_factor=(1, 2, 4, 4),
        bn_factor=(1, 2, 4, 4),
        bottleneck=True,
        reduction=0.5,
        prune='max',
        stem='imagenet'),
    exit_head=dict(type='dynamicnet.MSDNetExitHead', num_classes=1000, inter_channels=None),
    loss=dict(type='mmpretrain.CrossEntropyLoss'),
    # costs counted with the official op_counter.py rules (ReLU and pooling ops included; the
    # 'condensenet' rule set equals them up to linear biases) so curves compare with the paper's
    test_cfg=dict(cost_input_shape=(3, 224, 224), cost_rules='condensenet'),
)

imagenet_train = dict(
    type='ImageNet',
    data_root='data/imagenet',
    split='train',
    pipeline=[
        dict(type='LoadImageFromFile'),
        dict(type='RandomResizedCrop', scale=224),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ])
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    dataset=dict(
        _delete_=True,
        type='dynamicnet.HoldoutSplit',
        dataset=imagenet_train,
        num_holdout=num_holdout,
        split='train',
        seed=0))
fit_dataloader = dict(
    batch_size=32,
    num_workers=5,
    dataset=dict(
        type='dynamicnet.HoldoutSplit',
        dataset=dict(imagenet_train, pipeline=test_pipeline),
        num_holdout=num_holdout,
        split='holdout',
        seed=0),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='dynamicnet.EarlyExitMetric', budget=False),
]
test_evaluator = dict(
    _delete_=True,
    type='dynamicnet.EarlyExitMetric',
    fit_set='train holdout 50000, test pipeline')
test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit_dataloader)

param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[30, 60], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=90, val_interval=1)
# per-exit cumulative MACs in every checkpoint's meta
custom_hooks = [dict(type='dynamicnet.ExitCostsHook')]
