# Copyright (c) dynamicnet contributors. All rights reserved.
# CondenseNetV2-C, official recipe as condensenetv2-a_8xb128_in1k.py, except that the official
# evaluation resizes with bilinear interpolation for C (convert_and_eval.py).
_base_ = ['./condensenetv2-a_8xb128_in1k.py']

model = dict(
    backbone=dict(arch='c'), head=dict(in_channels=2064, mid_channels=[1024]))
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow', interpolation='bilinear'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
