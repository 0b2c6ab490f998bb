# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny AdaFocus stage 0, part 2: the focuser alone on full frames; keeps part 1's glancer.
_base_ = ['./adafocus-r18-r18_stage0-glancer_1xb8_tiny-video.py']

model = dict(init_target='local')
load_from = 'work_dirs/adafocus-r18-r18_stage0-glancer_1xb8_tiny-video/epoch_8.pth'
