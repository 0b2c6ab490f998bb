# Copyright (c) dynamicnet contributors. All rights reserved.
# CondenseNetV2-B, official recipe as condensenetv2-a_8xb128_in1k.py (bicubic evaluation).
_base_ = ['./condensenetv2-a_8xb128_in1k.py']

model = dict(
    backbone=dict(arch='b'), head=dict(in_channels=1176, mid_channels=[1024]))
