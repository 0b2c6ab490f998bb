# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT foreground extractor (dynamicnet's reconstruction, fot.md §4.1 [unconfirmed]) trained on the
# CUB-200-2011 *base* classes with their segmentation masks. It never sees novel-class images.
_base_ = ['../fewshot/_base_/datasets/cub_fewshot.py', './_base_/extractor_unet_100e.py']
data_preprocessor = None
train_dataloader = dict(batch_size=32, dataset=_base_.fot_base_train)
val_dataloader = None
test_dataloader = None
