# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT posture transformation generator (dynamicnet's reconstruction, fot.md §4.2 [unconfirmed])
# trained on pairs of CUB-200-2011 *base*-class images; masks: their segmentations.
_base_ = ['../fewshot/_base_/datasets/cub_fewshot.py', './_base_/generator_unet_200e.py']
data_preprocessor = None
train_dataloader = dict(batch_size=32, dataset=dict(
    _base_.posture_pairs, _delete_=True, dataset=_base_.fot_base_train))
val_dataloader = None
test_dataloader = None
