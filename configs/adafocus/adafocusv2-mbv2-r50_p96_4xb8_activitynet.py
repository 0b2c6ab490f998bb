# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocusV2 (end-to-end), P = 96; everything else as the P = 128 config.
_base_ = ['./adafocusv2-mbv2-r50_p128_4xb8_activitynet.py']

model = dict(patch_size=96)
