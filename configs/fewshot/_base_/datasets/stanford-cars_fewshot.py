# Copyright (c) dynamicnet contributors. All rights reserved.
# Stanford Cars few-shot (196 classes). Layout: mmpretrain's StanfordCars
# (data/StanfordCars/{car_ims,cars_annos.mat} or {cars_train,cars_test,devkit}); its train and test
# parts are concatenated, since few-shot splits are over classes. Class names: mmpretrain's
# StanfordCars names, e.g. 'AM General Hummer SUV 2000'.
# No masks: FOT uses a saliency extractor trained on generic salient-object data (DUTS).
_base_ = ['./fewshot_224px.py']
data_root = 'data/StanfordCars/'
# Class split; every loader below and FOT's base-class data derive from this one key.
# Default: the field's split sizes, 130 base / 17 val / 49 novel classes (fot.md §4.4), as
# contiguous ranges of mmpretrain's class order. A deterministic placeholder, NOT the published
# class lists of the few-shot literature (not available to dynamicnet): results with it are not
# comparable with published tables. For published lists, write them (one class name per line)
# to data_root/splits/{base,val,novel}.txt and set
#   class_splits = dict(base='splits/base.txt', val='splits/val.txt', novel='splits/novel.txt')
class_splits = dict(sizes=(130, 17, 49))
data_preprocessor = dict(num_classes=130)
full_dataset = dict(type='ConcatDataset', datasets=[
    dict(type='StanfordCars', data_root=data_root, split='train'),
    dict(type='StanfordCars', data_root=data_root, split='test')])


def _split(split, pipeline):
    return dict(type='dynamicnet.ClassSplitDataset', split=split, class_splits=class_splits,
                split_root=data_root, dataset=dict(full_dataset, datasets=[
                    dict(d, pipeline=pipeline) for d in full_dataset['datasets']]))


train_dataloader = dict(dataset=_split('base', _base_.train_pipeline))
val_dataloader = dict(dataset=dict(dataset=_split('val', _base_.test_pipeline)))
test_dataloader = dict(dataset=dict(dataset=_split('novel', _base_.test_pipeline)))
# Base-class images (no masks) for FOT: extractor / generator training and the posture bank.
fot_base_train = _split('base', _base_.mask_train_pipeline)
fot_base_bank = _split('base', _base_.test_pipeline)
