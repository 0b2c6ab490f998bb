# Copyright (c) dynamicnet contributors. All rights reserved.
# Stanford Dogs few-shot (120 classes). Layout: data/StanfordDogs/Images/<wnid-name>/*.jpg, read as
# is by mmpretrain's CustomDataset (class names: the folder names, e.g. n02085620-Chihuahua).
# No masks: FOT uses a saliency extractor trained on generic salient-object data (DUTS).
_base_ = ['./fewshot_224px.py']
data_root = 'data/StanfordDogs/'
# Class split; every loader below and FOT's base-class data derive from this one key.
# Default: the field's split sizes, 70 base / 20 val / 30 novel classes (fot.md §4.4), as
# contiguous ranges of the sorted folder order. A deterministic placeholder, NOT the published
# class lists of the few-shot literature (not available to dynamicnet): results with it are not
# comparable with published tables. For published lists, write them (one folder name per line)
# to data_root/splits/{base,val,novel}.txt and set
#   class_splits = dict(base='splits/base.txt', val='splits/val.txt', novel='splits/novel.txt')
class_splits = dict(sizes=(70, 20, 30))
data_preprocessor = dict(num_classes=70)
full_dataset = dict(type='CustomDataset', data_root=data_root, data_prefix='Images')


def _split(split, pipeline):
    return dict(type='dynamicnet.ClassSplitDataset', split=split, class_splits=class_splits,
                split_root=data_root, dataset=dict(full_dataset, pipeline=pipeline))


train_dataloader = dict(dataset=_split('base', _base_.train_pipeline))
val_dataloader = dict(dataset=dict(dataset=_split('val', _base_.test_pipeline)))
test_dataloader = dict(dataset=dict(dataset=_split('novel', _base_.test_pipeline)))
# Base-class images (no masks) for FOT: extractor / generator training and the posture bank.
fot_base_train = _split('base', _base_.mask_train_pipeline)
fot_base_bank = _split('base', _base_.test_pipeline)
