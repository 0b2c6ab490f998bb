# Copyright (c) dynamicnet contributors. All rights reserved.
# DVT on T2T-ViT-12 (NeurIPS 2021), ImageNet-1k, 8 GPUs x 128 images: the official README command
# `-b 128 --lr 2e-3 --weight-decay .03` with main.py's timm recipe
# (../../../shared/specs/dvt.md §6).
# Three independent T2T-ViT-12 exits at 7x7, 10x10 and 14x14 tokens; exits 2 and 3 reuse the
# previous exit's last-layer features and attention logits; loss = sum of the three exits' losses.
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs64_t2t_224.py',
    'mmpretrain::_base_/default_runtime.py',
]

arch = 't2t-vit-12'
embed_dims = 256
num_classes = 1000
# (kernel, stride, padding) of the first soft split: 7x7, 10x10, 14x14 tokens at 224x224
soft_splits = [(14, 8, 3), (11, 6, 5), (7, 4, 2)]
exit_common = dict(
    type='dynamicnet.DVTT2TViT',
    arch=arch,
    img_size=224,
    token_dims=64,
    drop_path_rate=0.1,
)

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
    # timm mixup targets carry label smoothing 0.1; mmpretrain's LabelSmoothLoss smooths the
    # mixed one-hot targets the same way
    loss=dict(type='mmpretrain.LabelSmoothLoss', label_smooth_val=0.1, mode='original'),
    train_cfg=dict(augments=[
        dict(type='Mixup', alpha=0.8),
        dict(type='CutMix', alpha=1.0),
    ]),
    test_cfg=dict(cost_input_shape=(3, 224, 224)),
)

train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)

# Budgeted evaluation (tools/test.py, tools/analysis_tools/dynamic_eval.py): thresholds are
# fitted, as in the official inference.py, on 50,000 random ImageNet training images with the
# training augmentation (not held out from training).
fit_dataloader = dict(
    batch_size=128,
    num_workers=5,
    dataset=dict(
        type='dynamicnet.HoldoutSplit',
        dataset=dict(
            type='ImageNet',
            data_root='data/imagenet',
            split='train',
            pipeline={{_base_.train_pipeline}}),
        num_holdout=50000,
        split='holdout',
        seed=0),
    sampler=dict(type='DefaultSampler', shuffle=False))
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),  # of the last exit, as the official validation
    dict(type='dynamicnet.EarlyExitMetric', budget=False),
]
test_evaluator = dict(
    _delete_=True,
    type='dynamicnet.EarlyExitMetric',
    p_range=(1, 60),
    fit_set='imagenet train, random 50k, train pipeline (official DVT protocol)')
test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit_dataloader)

# AdamW, cosine to 1e-5 after 20 warm-up epochs from 1e-6, 300 epochs + 10 cool-down epochs at
# the minimum learning rate (timm's cosine scheduler as used by main.py)
base_lr = 2e-3
optim_wrapper = dict(
    optimizer=dict(type='AdamW', lr=base_lr, weight_decay=0.03),
    paramwise_cfg=dict(
        norm_decay_mult=0.0,
        bias_decay_mult=0.0,
        custom_keys={'.cls_token': dict(decay_mult=0.0)}),
)
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=1e-6 / base_lr,
        by_epoch=True,
        begin=0,
        end=20,
        convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=280, eta_min=1e-5, by_epoch=True, begin=20, end=300),
]
train_cfg = dict(by_epoch=True, max_epochs=310, val_interval=1)
val_cfg = dict()

# model EMA with decay 0.99996
custom_hooks = [dict(type='EMAHook', momentum=4e-5, priority='ABOVE_NORMAL')]
auto_scale_lr = dict(base_batch_size=1024)
