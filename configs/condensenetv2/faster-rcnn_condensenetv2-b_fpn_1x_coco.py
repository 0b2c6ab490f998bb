# Copyright (c) dynamicnet contributors. All rights reserved.
# Faster R-CNN + FPN, CondenseNetV2-B backbone (official README: 27.9 mAP); see the A config.
_base_ = './faster-rcnn_condensenetv2-a_fpn_1x_coco.py'

model = dict(backbone=dict(arch='b'), neck=dict(in_channels=[72, 216, 600, 1176]))
