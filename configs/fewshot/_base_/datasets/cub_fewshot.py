# Copyright (c) dynamicnet contributors. All rights reserved.
# CUB-200-2011 few-shot. All 11,788 images of a class are used (the official train/test split is
# ignored, as in the few-shot literature). Layout: data/CUB_200_2011/images/<class>/*.jpg (read by
# mmpretrain's CustomDataset) and the separately distributed segmentations in
# data/CUB_200_2011/segmentations/<class>/*.png (foreground masks for FOT's extractor training and
# the gt_mask ablation).
_base_ = ['./fewshot_224px.py']
data_root = 'data/CUB_200_2011/'
# Class split; every loader below and FOT's base-class data derive from this one key.
# Default: 100 base / 50 val / 50 novel classes by the rule of Chen et al. (ICLR 2019): label i is
# base if i % 2 == 0, val if i % 4 == 1, novel if i % 4 == 3 [unconfirmed: recollection of their
# write_CUB_filelist.py]. Other lists: class_splits = dict(base=..., val=..., novel=...) (see
# stanford-dogs_fewshot.py).
class_splits = 'closer_look_cub'
data_preprocessor = dict(num_classes=100)
mask_loader = dict(type='dynamicnet.LoadForegroundMask', img_dir='images',
                   mask_dir='segmentations', threshold=128)


def _with_mask(pipeline):
    # The mask is loaded right after the image, so mmcv's Resize / CenterCrop / RandomFlip
    # transform it with the image (as gt_seg_map), and packed for the extractor.
    return [pipeline[0], mask_loader, *pipeline[1:-1],
            dict(type='PackInputs', algorithm_keys=('gt_seg_map', ))]


test_pipeline = _with_mask(_base_.test_pipeline)
mask_train_pipeline = _with_mask(_base_.mask_train_pipeline)
full_dataset = dict(type='CustomDataset', data_root=data_root, data_prefix='images')


def _split(split, pipeline):
    return dict(type='dynamicnet.ClassSplitDataset', split=split, class_splits=class_splits,
                split_root=data_root, dataset=dict(full_dataset, pipeline=pipeline))


train_dataloader = dict(dataset=_split('base', _base_.train_pipeline))
val_dataloader = dict(dataset=dict(dataset=_split('val', test_pipeline)))
test_dataloader = dict(dataset=dict(dataset=_split('novel', test_pipeline)))
# Base-class images (with masks) for FOT: extractor / generator training and the posture bank.
fot_base_train = _split('base', mask_train_pipeline)
fot_base_bank = _split('base', test_pipeline)
