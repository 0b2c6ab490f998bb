# Copyright (c) dynamicnet contributors. All rights reserved.
# RetinaNet + FPN, CondenseNetV2-B backbone; see retinanet_condensenetv2-a_fpn_1x_coco.py.
_base_ = './retinanet_condensenetv2-a_fpn_1x_coco.py'

model = dict(backbone=dict(arch='b'), neck=dict(in_channels=[72, 216, 600, 1176]))
