# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 1 (warm-up), ResNet-50 encoders, patch/glance 96, T = 5 (gfnet.md §3, §5):
# f_G and f_L (separate ResNet-50s) and the GRU classifier f_C are trained on uniformly random
# patch locations; loss (1/T) sum_t [CE(f_C_t) + 1.0 CE(encoder head_t)]. SGD Nesterov momentum
# 0.9, per-epoch cosine from lr 0.01 (encoders) / 0.1 (f_C), wd 1e-4, batch 256, 60 epochs.
# The official stage 1 starts from "initialization" checkpoints of both encoders (ImageNet
# ResNet-50 adapted to 96x96 inputs; how they were produced is unconfirmed): load them with
# model.global_encoder.init_cfg / model.local_encoder.init_cfg or --cfg-options load_from=...
# Stage 2: gfnet-r50_p96-t5_stage2_8xb32_in1k.py (load_from = this run's last checkpoint).
_base_ = [
    'mmpretrain::_base_/datasets/imagenet_bs32.py',
    'mmpretrain::_base_/default_runtime.py',
]

patch_size = 96
num_steps = 5
encoder = dict(
    backbone=dict(type='mmpretrain.ResNet', depth=50, num_stages=4, out_indices=(3, )),
    map_channels=2048)
model = dict(
    type='dynamicnet.GFNet',
    global_encoder=encoder,
    local_encoder=encoder,
    num_classes=1000,
    patch_size=patch_size,
    num_steps=num_steps,
    classifier=dict(type='gru', hidden_dim=1024),
    policy=dict(state_encoder='mlp', hidden_dim=1024, std=0.1, gamma=0.7, clip_eps=0.2,
                value_coef=0.5, entropy_coef=0.01),
    training_stage=1,
    train_global=True,
    dsn_weight=1.0,
    glance_interp='bicubic',
    test_cfg=dict(cost_input_shape=(3, 224, 224)),
)

train_dataloader = dict(batch_size=32)
# official protocol: thresholds fitted on 200,000 random training images with training
# augmentation (gfnet.md §6); the label records it next to every curve
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
fit_dataloader = dict(
    batch_size=32,
    num_workers=5,
    dataset=dict(type='dynamicnet.HoldoutSplit', dataset=imagenet_train, num_holdout=200000,
                 split='holdout', seed=0),
    sampler=dict(type='DefaultSampler', shuffle=False),
)
val_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(type='dynamicnet.EarlyExitMetric', budget=False),
]
test_evaluator = dict(
    _delete_=True,
    type='dynamicnet.EarlyExitMetric',
    fit_set='200000 training images, training augmentation (official)')
test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit_dataloader)
val_cfg = dict()

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, nesterov=True, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'classifier': dict(lr_mult=10.0)}))
param_scheduler = dict(type='CosineAnnealingLR', by_epoch=True, T_max=60)
train_cfg = dict(by_epoch=True, max_epochs=60, val_interval=1)
auto_scale_lr = dict(base_batch_size=256)
# per-exit cumulative MACs in every checkpoint's meta
custom_hooks = [dict(type='dynamicnet.ExitCostsHook')]
