# Copyright (c) dynamicnet contributors. All rights reserved.
# VoteNet + Pointformer on SUN RGB-D (10 classes), 8 GPUs x 5 samples: the official recipe
# (Vladimir2506/Pointformer `configs/pointformer/votenet_ptr_sunrgbd-3d-10class.py`,
# ../shared/specs/pointformer.md §8) on mmdet3d 1.4's SUN RGB-D pipeline (20,000 points,
# 12 heading bins with rotation, inherited from mmdet3d's VoteNet config).
_base_ = ['mmdet3d::votenet/votenet_8xb16_sunrgbd-3d.py']

custom_imports = dict(imports=['dynamicnet.ops.mmdet3d_dispatch'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='dynamicnet.Pointformer',
        in_channels=4,
        num_points=(2048, 1024, 512, 256),
        radius=(0.2, 0.4, 0.8, 1.2),
        num_samples=(16, 16, 16, 16),
        basic_channels=64,
        fp_channels=((256, 256), (256, 256)),
        num_heads=4,
        num_layers=2,
        ffn_ratio=2,
        local_drop=0.0,
        global_drop=0.1,
        prenorm=False,
        use_decoder=False,
        coord_refine=False))

train_dataloader = dict(batch_size=5)

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=3e-4, weight_decay=0.05),
    clip_grad=dict(max_norm=10, norm_type=2))
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=36, val_interval=1)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=36, by_epoch=True, milestones=[24, 32], gamma=0.3)
]
# base_batch_size = 8 GPUs x 5 samples.
auto_scale_lr = dict(enable=False, base_batch_size=40)
