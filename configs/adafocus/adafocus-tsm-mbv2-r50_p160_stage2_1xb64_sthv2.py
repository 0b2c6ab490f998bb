# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus-TSM, Something-Something V2, P = 160, stage 2: the Gaussian patch policy by PPO, the
# rest frozen.
_base_ = [
    './_base_/adafocus-tsm_stage2.py',
    './_base_/sthv2_rawframes.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(patch_size=160)
train_dataloader = dict(batch_size=64)
load_from = 'work_dirs/adafocus-tsm-mbv2-r50_p160_stage1_2xb32_sthv2/epoch_50.pth'
