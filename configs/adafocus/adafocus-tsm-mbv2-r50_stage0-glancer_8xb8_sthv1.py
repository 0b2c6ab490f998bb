# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus-TSM, Something-Something V1, stage 0 part 1: the ImageNet MobileNetV2 made TSM, trained
# alone on the 8 glancer frames (the focuser frames are decoded but unused). The patch size does
# not matter here.
_base_ = [
    './_base_/adafocus-tsm_stage0.py',
    './_base_/sthv1_rawframes.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(init_target='global')
train_dataloader = dict(batch_size=8)
val_dataloader = dict(batch_size=8)
test_dataloader = val_dataloader
