# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus stage 1, P = 128: train the focuser f_L and the GRU classifier f_C on uniformly random
# patches; the glancer is frozen in eval mode. SGD momentum 0.9, wd 1e-4, backbone lr 5e-4,
# classifier lr 0.05 (lr_mult 100), cosine, 50 epochs, 2 GPUs x 32, AMP in the official run
# (use --amp on GPUs). Loss: cross-entropy at every frame, averaged.
_base_ = [
    './_base_/adafocus_mbv2-r50.py',
    './_base_/activitynet_rawframes.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(training_stage=1, patch_size=128)
load_from = 'work_dirs/adafocus-mbv2-r50_stage0-focuser_2xb32_activitynet/epoch_15.pth'
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=5e-4, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=100.0)}))
param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, T_max=50, convert_to_iter_based=False)
train_cfg = dict(by_epoch=True, max_epochs=50, val_interval=5)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=64)
