# Copyright (c) dynamicnet contributors. All rights reserved.
# DVT on T2T-ViT-12 fine-tuned on CIFAR-10 at 224x224 (paper Table 3). The official repository
# has no CIFAR code; DVT follows T2T-ViT's transfer recipe, whose README command is
# `--lr 0.05 --b 64 --img-size 224` (SGD); epochs and weight decay are [unconfirmed] defaults
# here (60 epochs, cosine, wd 1e-4). Set `load_from` to an ImageNet DVT checkpoint (trained with
# dvt_t2t-vit-12_8xb128_in1k.py or converted with
# tools/model_converters/dvt_official_to_dynamicnet.py); the 1000-class heads are skipped by
# shape and re-initialised.
_base_ = [
    'mmpretrain::_base_/datasets/cifar10_bs16.py',
    'mmpretrain::_base_/default_runtime.py',
]

num_classes = 10
soft_splits = [(14, 8, 3), (11, 6, 5), (7, 4, 2)]
exit_common = dict(
    type='dynamicnet.DVTT2TViT', arch='t2t-vit-12', img_size=224, drop_path_rate=0.1)
model = dict(
    type='dynamicnet.DVT',
    backbones=[
        dict(**exit_common, soft_split0=soft_splits[0]),
        dict(**exit_common, soft_split0=soft_splits[1], feature_reuse=True, relation_reuse=True),
        dict(**exit_common, soft_split0=soft_splits[2], feature_reuse=True, relation_reuse=True),
    ],
    head=dict(
        type='mmpretrain.VisionTransformerClsHead',
        num_classes=num_classes,
        init_cfg=dict(type='TruncNormal', layer='Linear', std=.02)),
    loss=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
    test_cfg=dict(cost_input_shape=(3, 224, 224)),
)

train_pipeline = [
    dict(type='RandomCrop', crop_size=32, padding=4),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='Resize', scale=224, interpolation='bicubic'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='Resize', scale=224, interpolation='bicubic'),
    dict(type='PackInputs'),
]
# 5,000 random training images are held out (dynamicnet default, dynamic-inference.md §4.2: no
# official CIFAR protocol exists) and fit the early-exit thresholds with the test pipeline.
cifar_train = dict(type='CIFAR10', data_root='data/cifar10', split='train')
train_dataloader = dict(
    batch_size=64,
    dataset=dict(
        _delete_=True,
        type='dynamicnet.HoldoutSplit',
        dataset=dict(cifar_train, pipeline=train_pipeline),
        num_holdout=5000,
        split='train',
        seed=0))
val_dataloader = dict(batch_size=64, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
fit_dataloader = dict(
    batch_size=64,
    num_workers=2,
    dataset=dict(
        type='dynamicnet.HoldoutSplit',
        dataset=dict(cifar_train, pipeline=test_pipeline),
        num_holdout=5000,
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
    fit_set='cifar train holdout 5000 (seed 0), test pipeline')
test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit_dataloader)

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4),
    clip_grad=dict(max_norm=5.0))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=60, by_epoch=True, begin=0, end=60)]
train_cfg = dict(by_epoch=True, max_epochs=60, val_interval=1)
val_cfg = dict()
auto_scale_lr = dict(base_batch_size=512)
