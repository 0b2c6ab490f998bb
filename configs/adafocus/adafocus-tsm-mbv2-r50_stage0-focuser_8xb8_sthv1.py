# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus-TSM, Something-Something V1, stage 0 part 2: the ImageNet ResNet-50 made TSM, trained
# alone on the 12 focuser frames (full 224x224); load_from keeps part 1's glancer in the same
# checkpoint.
_base_ = ['./adafocus-tsm-mbv2-r50_stage0-glancer_8xb8_sthv1.py']

model = dict(init_target='local')
load_from = 'work_dirs/adafocus-tsm-mbv2-r50_stage0-glancer_8xb8_sthv1/epoch_50.pth'
