# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus stage 0 (initialisation), part 2: fine-tune the ImageNet ResNet-50 focuser alone on full
# 224x224 frames with a per-frame Linear head (mean over frames), same schedule as the glancer.
# load_from keeps the fine-tuned glancer of part 1 in the same checkpoint.
_base_ = ['./adafocus-mbv2-r50_stage0-glancer_2xb32_activitynet.py']

model = dict(
    init_target='local',
    global_backbone=dict(init_cfg=None),
    local_backbone=dict(
        init_cfg=dict(
            type='Pretrained',
            prefix='backbone',
            checkpoint='https://download.openmmlab.com/mmclassification/v0/resnet/'
            'resnet50_8xb32_in1k_20210831-ea4938fc.pth')))
load_from = 'work_dirs/adafocus-mbv2-r50_stage0-glancer_2xb32_activitynet/epoch_15.pth'
