# Copyright (c) dynamicnet contributors. All rights reserved.
# CUB-200-2011 few-shot: 100 base / 50 val / 50 novel classes by the rule of Chen et al.
# (ICLR 2019): label i is base if i % 2 == 0, val if i % 4 == 1, novel if i % 4 == 3
# [unconfirmed: recollection of their write_CUB_filelist.py]. All 11,788 images of a class are
# used (the official train/test split is ignored, as in the few-shot literature).
# Layout: data/CUB_200_2011/images/<class>/*.jpg (read by mmpretrain's CustomDataset) and the
# separately distributed segmentations in data/CUB_200_2011/segmentations/<class>/*.png
# (foreground masks for FOT's extractor training and the gt_mask ablation).
data_root = 'data/CUB_200_2011/'
class_splits = 'closer_look_cub'
num_base_classes = 100
image_size = 224
data_preprocessor = dict(
    num_classes=num_base_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='RandomResizedCrop', scale=image_size),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
# mmcv's Resize / CenterCrop / RandomFlip also transform the mask (gt_seg_map).
mask_loader = dict(type='dynamicnet.LoadForegroundMask', img_dir='images',
                   mask_dir='segmentations', threshold=128)
test_pipeline = [
    dict(type='LoadImageFromFile'),
    mask_loader,
    dict(type='Resize', scale=(int(image_size * 1.15), int(image_size * 1.15))),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='PackInputs', algorithm_keys=('gt_seg_map', )),
]
mask_train_pipeline = [
    dict(type='LoadImageFromFile'),
    mask_loader,
    dict(type='Resize', scale=(image_size, image_size)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs', algorithm_keys=('gt_seg_map', )),
]
full_dataset = dict(type='CustomDataset', data_root=data_root, data_prefix='images')


def _split(split, pipeline):
    return dict(type='dynamicnet.ClassSplitDataset', split=split, class_splits=class_splits,
                split_root=data_root, dataset=dict(full_dataset, pipeline=pipeline))


def _episodes(split):
    return dict(type='dynamicnet.EpisodicDataset', n_way=5, k_shot=1, n_query=15,
                num_episodes=600, episode_seed=0, dataset=_split(split, test_pipeline))


train_dataloader = dict(
    batch_size=64, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=_split('base', train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_episodes('val'))
test_dataloader = dict(
    batch_size=1, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_episodes('novel'))
# Base-class images (with masks) for FOT: extractor / generator training and the posture bank.
fot_base_train = _split('base', mask_train_pipeline)
fot_base_bank = _split('base', test_pipeline)
