# Copyright (c) dynamicnet contributors. All rights reserved.
# CAM-loss on ImageNet, ResNet-50 (7x7 maps), with the spec's default options (camloss.md §4) and
# alpha = 1.
_base_ = ['./resnet50_8xb32_in1k.py']
model = dict(head=dict(cam_cfg=dict(alpha=1.0)))
