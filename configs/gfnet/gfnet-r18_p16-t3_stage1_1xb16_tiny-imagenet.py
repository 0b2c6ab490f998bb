# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet on the tiny ImageNet-style class folders (32x32 PNGs, 6 classes): slim ResNet-18
# encoders (base width 16, 128-channel 1x1 map), glance/patch 16, T = 3, GRU f_C (hidden 64), MLP
# policy (hidden 64). Stage 1 of 3; stages 2 and 3 chain by load_from. Thresholds for the budget
# curve are fitted on a quarter of the training images with the training pipeline (the official
# GFNet protocol). Tiny data: exercises the protocol, the numbers are not results.
_base_ = [
    '../_base_/datasets/tiny_imagenet.py',
    'mmpretrain::_base_/default_runtime.py',
]

encoder = dict(
    backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=16, out_indices=(3, )),
    map_channels=128)
model = dict(
    type='dynamicnet.GFNet',
    global_encoder=encoder,
    local_encoder=encoder,
    num_classes=6,
    patch_size=16,
    num_steps=3,
    classifier=dict(type='gru', hidden_dim=64),
    policy=dict(state_encoder='mlp', hidden_dim=64),
    training_stage=1,
    train_global=True,
    dsn_weight=1.0,
    # benchmark_early_exit.py times the early exit at batch 1024 by default: the encoders see
    # 16x16 crops, and at batch 128 a quarter to a third of a focus step's time is per-call time
    # of the encoder (oneDNN convolutions on 4x4 to 1x1 maps, module calls), which early exit
    # cannot save (README)
    test_cfg=dict(cost_input_shape=(3, 32, 32), benchmark_batch_size=1024),
)

fit_dataloader = dict(
    batch_size=16,
    num_workers=0,
    dataset=dict(
        type='dynamicnet.HoldoutSplit',
        dataset=dict(
            type='CustomDataset',
            data_root='data/tiny/imagenet',
            data_prefix='train',
            pipeline=[
                dict(type='LoadImageFromFile'),
                dict(type='RandomResizedCrop', scale=32, crop_ratio_range=(0.5, 1.0)),
                dict(type='RandomFlip', prob=0.5, direction='horizontal'),
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
    fit_set='tiny train 25% (seen), training pipeline')
test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit_dataloader)
val_cfg = dict()

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'classifier': dict(lr_mult=10.0)}))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=20)
train_cfg = dict(by_epoch=True, max_epochs=20, val_interval=10)
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=10))
randomness = dict(seed=0)
# per-exit cumulative MACs in every checkpoint's meta
custom_hooks = [dict(type='dynamicnet.ExitCostsHook')]
