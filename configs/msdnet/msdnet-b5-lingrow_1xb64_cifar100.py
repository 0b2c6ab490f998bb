# Copyright (c) dynamicnet contributors. All rights reserved.
# MSDNet, CIFAR-100 budgeted-batch setting of the official README (kalviny/MSDNet-PyTorch):
#   --nBlocks 5 --stepmode lin_grow --step 1 --base 1 --nChannels 16 --growthRate 6
#   --grFactor 1-2-4 --bnFactor 1-2-4 --use-valid, 300 epochs, batch 64, SGD lr 0.1 (x0.1 at
#   150/225), momentum 0.9, wd 1e-4; summed cross-entropy over the 5 exits.
# --use-valid: 5,000 training images held out (seeded random split) for fitting the exit
# thresholds; they go through the test pipeline (dynamicnet default, dynamic-inference.md §4.2).
# Evaluate with  python tools/analysis_tools/dynamic_eval.py THIS_CONFIG CHECKPOINT
_base_ = [
    'mmpretrain::_base_/datasets/cifar100_bs16.py',
    'mmpretrain::_base_/default_runtime.py',
]

num_holdout = 5000
model = dict(
    type='dynamicnet.EarlyExitClassifier',
    backbone=dict(
        type='dynamicnet.MSDNet',
        num_blocks=5,
        step_mode='lin_grow',
        step=1,
        base=1,
        channels=16,
        growth_rate=6,
        gr_factor=(1, 2, 4),
        bn_factor=(1, 2, 4),
        bottleneck=True,
        reduction=0.5,
        prune='max',
        stem='cifar'),
    exit_head=dict(type='dynamicnet.MSDNetExitHead', num_classes=100, inter_channels=128),
    loss=dict(type='mmpretrain.CrossEntropyLoss'),
    # costs counted with the official op_counter.py rules (ReLU and pooling ops included; the
    # 'condensenet' rule set equals them up to linear biases) so curves compare with the paper's
    test_cfg=dict(cost_input_shape=(3, 32, 32), cost_rules='condensenet'),
)

cifar100_train = dict(
    type='CIFAR100',
    data_root='data/cifar100',
    split='train',
    pipeline=[
        dict(type='RandomCrop', crop_size=32, padding=4),
        dict(type='RandomFlip', prob=0.5, direction='horizontal'),
        dict(type='PackInputs'),
    ])
train_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        _delete_=True,
        type='dynamicnet.HoldoutSplit',
        dataset=cifar100_train,
        num_holdout=num_holdout,
        split='train',
        seed=0),
)
# the held-out 5,000 training images with the test pipeline: threshold fitting set
fit_dataloader = dict(
    batch_size=64,
    num_workers=4,
    dataset=dict(
        type='dynamicnet.HoldoutSplit',
        dataset=dict(cifar100_train, pipeline=[dict(type='PackInputs')]),
        num_holdout=num_holdout,
        split='holdout',
        seed=0),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_dataloader = dict(batch_size=64)
test_dataloader = dict(batch_size=64)

val_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(type='dynamicnet.EarlyExitMetric', budget=False),
]
test_evaluator = dict(
    _delete_=True,
    type='dynamicnet.EarlyExitMetric',
    fit_set='train holdout 5000, test pipeline')
test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit_dataloader)

optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[150, 225], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=300, val_interval=10)
val_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
# per-exit cumulative MACs in every checkpoint's meta
custom_hooks = [dict(type='dynamicnet.ExitCostsHook')]
