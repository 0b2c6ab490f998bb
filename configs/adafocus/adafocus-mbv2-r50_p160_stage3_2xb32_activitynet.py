# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus stage 3 (argmax policy; AdaFocus+ test), P = 160; everything else as the P = 128 config.
_base_ = ['./adafocus-mbv2-r50_p128_stage3_2xb32_activitynet.py']

model = dict(patch_size=160)
load_from = 'work_dirs/adafocus-mbv2-r50_p160_stage2_1xb64_activitynet/epoch_50.pth'
