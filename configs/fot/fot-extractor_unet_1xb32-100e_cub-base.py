# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT foreground extractor (dynamicnet's reconstruction, fot.md §4.1 [unconfirmed]): a U-Net
# salient-object network trained on the CUB-200-2011 *base* classes with their segmentation masks
# (BCE + soft IoU). It never sees novel-class images in training.
_base_ = ['../fewshot/_base_/datasets/cub_fewshot.py', 'mmpretrain::_base_/default_runtime.py']
data_preprocessor = None  # the extractor scales images to [0, 1] itself
model = dict(type='dynamicnet.SaliencyExtractor', base_channels=16, num_levels=4)
train_dataloader = dict(batch_size=32, dataset={{_base_.fot_base_train}})
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
train_cfg = dict(by_epoch=True, max_epochs=100)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=10, max_keep_ckpts=2))
