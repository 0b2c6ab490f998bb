# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT foreground extractor on the tiny few-shot data's base classes (synthetic; CPU runs/tests).
# 40 epochs: after 10 its maps were too coarse and removing the background hurt (see README).
_base_ = [
    '../fewshot/_base_/datasets/tiny-fewshot_fewshot.py', 'mmpretrain::_base_/default_runtime.py'
]
data_preprocessor = None  # the extractor scales images to [0, 1] itself
model = dict(type='dynamicnet.SaliencyExtractor', base_channels=16, num_levels=3)
train_dataloader = dict(dataset={{_base_.fot_base_train}})
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
optim_wrapper = dict(optimizer=dict(type='Adam', lr=2e-3))
train_cfg = dict(by_epoch=True, max_epochs=40)
default_hooks = dict(logger=dict(type='LoggerHook', interval=5),
                     checkpoint=dict(type='CheckpointHook', interval=10))
