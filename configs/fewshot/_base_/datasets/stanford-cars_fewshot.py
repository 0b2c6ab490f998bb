# Copyright (c) dynamicnet contributors. All rights reserved.
# Stanford Cars few-shot: 196 classes split 130 base / 17 val / 49 novel, the field's usual sizes
# (fot.md §4.4). The exact class lists of the literature's split files are not available to
# dynamicnet: by default the classes are taken as contiguous ranges of the sorted folder order
# (a deterministic placeholder). To use published lists, write splits/{base,val,novel}.txt
# (one class name of mmpretrain's StanfordCars per line) under data_root and set
#   class_splits = dict(base='splits/base.txt', val='splits/val.txt', novel='splits/novel.txt')
# Layout: mmpretrain's StanfordCars (data/StanfordCars/{car_ims,cars_annos.mat} or
# {cars_train,cars_test,devkit}); its train and test parts are concatenated, since few-shot
# splits are over classes.
# No masks: FOT uses a saliency extractor trained on generic salient-object data (DUTS).
data_root = 'data/StanfordCars/'
class_splits = dict(sizes=(130, 17, 49))
num_base_classes = 130
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
full_dataset = dict(type='ConcatDataset', datasets=[
    dict(type='StanfordCars', data_root=data_root, split='train'),
    dict(type='StanfordCars', data_root=data_root, split='test')])


def _split(split, pipeline):
    return dict(type='dynamicnet.ClassSplitDataset', split=split, class_splits=class_splits,
                split_root=data_root, dataset=dict(full_dataset, datasets=[
                    dict(d, pipeline=pipeline) for d in full_dataset['datasets']]))


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
