# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT foreground extractor on the tiny few-shot data's base classes (synthetic; CPU runs/tests).
# 40 epochs: after 10 its maps were too coarse and removing the background hurt (see README).
_base_ = ['../fewshot/_base_/datasets/tiny-fewshot_fewshot.py', './_base_/extractor_unet_100e.py']
model = _base_.fot_tiny_size
data_preprocessor = None
train_dataloader = dict(dataset=_base_.fot_base_train)
val_dataloader = None
test_dataloader = None
optim_wrapper = dict(optimizer=dict(lr=2e-3))
train_cfg = dict(max_epochs=40)
# Every checkpoint is kept: the README's under-trained-extractor rows load epoch_10.pth.
default_hooks = dict(logger=dict(type='LoggerHook', interval=5),
                     checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=-1))
