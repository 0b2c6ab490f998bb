# Copyright (c) dynamicnet contributors. All rights reserved.
# mini-ImageNet (Vinyals et al. 2016; split of Ravi & Larochelle 2017): the general few-shot twin
# of the fine-grained configs. 64 base / 16 val / 20 novel classes, 600 images each, stored as
# class folders data/mini-imagenet/{train,val,test}/<wnid>/*.jpg (the usual conversion of the
# CSV release); each folder is one split, so no class-split wrapper is needed.
# No masks: FOT uses a saliency extractor trained on generic salient-object data (DUTS).
data_root = 'data/mini-imagenet/'
num_base_classes = 64
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
split_folders = dict(base='train', val='val', novel='test')


def _split(split, pipeline):
    return dict(type='CustomDataset', data_root=data_root, data_prefix=split_folders[split],
                pipeline=pipeline)


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
