# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus-TSM, Something-Something V2, P = 176, stage 1: focuser + its head on random patches,
# glancer frozen.
_base_ = [
    './_base_/adafocus-tsm_stage1.py',
    './_base_/sthv2_rawframes.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(patch_size=176)
load_from = 'work_dirs/adafocus-tsm-mbv2-r50_stage0-focuser_8xb8_sthv2/epoch_50.pth'
