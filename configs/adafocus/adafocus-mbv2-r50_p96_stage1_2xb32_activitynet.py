# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus stage 1 (random patches, f_L + f_C), P = 96; everything else as the P = 128 config.
_base_ = ['./adafocus-mbv2-r50_p128_stage1_2xb32_activitynet.py']

model = dict(patch_size=96)
load_from = 'work_dirs/adafocus-mbv2-r50_stage0-focuser_2xb32_activitynet/epoch_15.pth'
