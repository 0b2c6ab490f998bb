# Copyright (c) dynamicnet contributors. All rights reserved.
# Stanford Dogs few-shot: 120 classes split 70 base / 20 val / 30 novel, the field's usual sizes
# (fot.md §4.4). The exact class lists of the literature's split files are not available to
# dynamicnet: by default the classes are taken as contiguous ranges of the sorted folder order
# (a deterministic placeholder). To use published lists, write splits/{base,val,novel}.txt
# (one class folder name per line) under data_root and set
#   class_splits = dict(base='splits/base.txt', val='splits/val.txt', novel='splits/novel.txt')
# Layout: data/StanfordDogs/Images/<wnid-name>/*.jpg (read as is by mmpretrain's CustomDataset).
# No masks: FOT uses a saliency extractor trained on generic salient-object data (DUTS).
data_root = 'data/StanfordDogs/'
class_splits = dict(sizes=(70, 20, 30))
num_base_classes = 70
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
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(int(image_size * 1.15), int(image_size * 1.15))),
    dict(type='CenterCrop', crop_size=image_size),
    dict(type='PackInputs'),
]
mask_train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=(image_size, image_size)),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
full_dataset = dict(type='CustomDataset', data_root=data_root, data_prefix='Images')


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
# Base-class images (no masks) for FOT: extractor / generator training and the posture bank.
fot_base_train = _split('base', mask_train_pipeline)
fot_base_bank = _split('base', test_pipeline)
