# Copyright (c) dynamicnet contributors. All rights reserved.
# DVT on T2T-ViT-14, ImageNet-1k, 8 GPUs x 64 images: the official README command
# `-b 64 --lr 5e-4 --weight-decay .05` (../../../shared/specs/dvt.md §6).
_base_ = ['./dvt_t2t-vit-12_8xb128_in1k.py']

exit_common = dict(
    type='dynamicnet.DVTT2TViT',
    arch='t2t-vit-14',
    img_size=224,
    token_dims=64,
    drop_path_rate=0.1,
)
soft_splits = [(14, 8, 3), (11, 6, 5), (7, 4, 2)]
model = dict(backbones=[
    dict(**exit_common, soft_split0=soft_splits[0]),
    dict(**exit_common, soft_split0=soft_splits[1], feature_reuse=True, relation_reuse=True),
    dict(**exit_common, soft_split0=soft_splits[2], feature_reuse=True, relation_reuse=True),
])

train_dataloader = dict(batch_size=64)
val_dataloader = dict(batch_size=64)
fit_dataloader = dict(batch_size=64)
test_cfg = dict(fit_dataloader=dict(batch_size=64))

base_lr = 5e-4
optim_wrapper = dict(optimizer=dict(lr=base_lr, weight_decay=0.05))
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
auto_scale_lr = dict(base_batch_size=512)
