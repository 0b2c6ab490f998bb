# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT foreground extractor training (fot.md §4.1 [unconfirmed]): the U-Net salient-object network
# of fot_networks.py, BCE + soft IoU against foreground masks, 100 epochs.
_base_ = ['./fot_stage_runtime.py']
model = _base_.fot_extractor
train_cfg = dict(by_epoch=True, max_epochs=100)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
