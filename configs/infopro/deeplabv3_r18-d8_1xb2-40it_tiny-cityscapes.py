# Copyright (c) dynamicnet contributors. All rights reserved.
# End-to-end DeepLab-V3 R18-d8 on dynamicnet's tiny Cityscapes (64×128 crops), the twin of
# deeplabv3_r18-d8-infopro-k2_1xb2-40it_tiny-cityscapes.py, for quick CPU runs: mmseg's
# DeepLab-V3 model base with a ResNetV1c-18 (no pretrained weights, plain BN). Make the data with
#   python tools/dataset_converters/make_tiny_data.py cityscapes --out data/tiny/cityscapes
_base_ = [
    'mmseg::_base_/models/deeplabv3_r50-d8.py',
    '../_base_/datasets/tiny_cityscapes.py',
    'mmseg::_base_/default_runtime.py',
    'mmseg::_base_/schedules/schedule_40k.py',
]
norm_cfg = dict(type='BN', requires_grad=True)
crop_size = (64, 128)
model = dict(
    pretrained=None,
    data_preprocessor=dict(size=crop_size),
    backbone=dict(depth=18, norm_cfg=norm_cfg),
    decode_head=dict(in_channels=512, channels=64, norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=256, channels=32, norm_cfg=norm_cfg))
# a larger lr than the 40k-iteration recipe (0.01): tiny runs last tens of iterations
optim_wrapper = dict(optimizer=dict(lr=0.05))
param_scheduler = [
    dict(type='PolyLR', eta_min=1e-4, power=0.9, begin=0, end=40, by_epoch=False)
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=40, val_interval=40)
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=5, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=20))
