# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline on the tiny fine-grained few-shot data (synthetic, 64 px; CPU runs and tests, not a
# benchmark): a narrow ResNet-18 (16 base channels) pre-trained 6 epochs on the 10 base classes,
# then 600 seeded 5-way 1-shot episodes over the 5 novel classes.
_base_ = [
    './_base_/datasets/tiny-fewshot_fewshot.py', './_base_/models/resnet18_baseline.py',
    './_base_/schedules/sgd_6e.py', './_base_/fewshot_runtime.py'
]
model = dict(
    backbone=dict(stem_channels=16, base_channels=16),
    head=dict(num_classes=10, in_channels=128))
default_hooks = dict(logger=dict(interval=5), checkpoint=dict(interval=6, save_best=None))
