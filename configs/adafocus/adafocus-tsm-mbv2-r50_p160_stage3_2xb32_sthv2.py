# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus-TSM, Something-Something V2, P = 160, stage 3: the focuser's head on the policy's
# patches.
_base_ = [
    './_base_/adafocus-tsm_stage3.py',
    './_base_/sthv2_rawframes.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(patch_size=160)
load_from = 'work_dirs/adafocus-tsm-mbv2-r50_p160_stage2_1xb64_sthv2/epoch_50.pth'
