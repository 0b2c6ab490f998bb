# Copyright (c) dynamicnet contributors. All rights reserved.
# The converted (deployable) CondenseNetV2-A: grouped convolutions, no masks. Evaluate checkpoints
# made by tools/model_converters/condensenetv2_convert.py (or the official converted weights
# mapped by condensenetv2_official_to_dynamicnet.py) with tools/test.py.
_base_ = ['./condensenetv2-a_8xb128_in1k.py']

model = dict(backbone=dict(deploy=True))
custom_hooks = []
