# Copyright (c) dynamicnet contributors. All rights reserved.
# RetinaNet + FPN, CondenseNetV2-C backbone (official README: 31.7 mAP); see the A config.
_base_ = './retinanet_condensenetv2-a_fpn_1x_coco.py'

model = dict(backbone=dict(arch='c'), neck=dict(in_channels=[144, 400, 1040, 2064]))
