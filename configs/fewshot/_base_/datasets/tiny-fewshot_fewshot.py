# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny fine-grained few-shot data (dynamicnet.datasets.tiny.fewshot): 20 "creature" classes of
# 20 images (64 px) on cluttered backgrounds with binary masks, split 10 base / 5 val / 5 novel
# by the CUB rule. Tiny synthetic data for CPU runs and tests, not a benchmark. Make it with
#   python tools/dataset_converters/make_tiny_data.py fewshot --out data/tiny/fewshot
data_root = 'data/tiny/fewshot/'
class_splits = dict(base='splits/base.txt', val='splits/val.txt', novel='splits/novel.txt')
num_base_classes = 10
image_size = 64
data_preprocessor = dict(
    num_classes=num_base_classes,
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)

mask_loader = dict(type='dynamicnet.LoadForegroundMask', img_dir='images', mask_dir='masks')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    mask_loader,
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs', algorithm_keys=('gt_seg_map', )),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    mask_loader,
    dict(type='PackInputs', algorithm_keys=('gt_seg_map', )),
]
mask_train_pipeline = train_pipeline
full_dataset = dict(type='CustomDataset', data_root=data_root, data_prefix='images')


def _split(split, pipeline):
    return dict(type='dynamicnet.ClassSplitDataset', split=split, class_splits=class_splits,
                split_root=data_root, dataset=dict(full_dataset, pipeline=pipeline))


def _episodes(split):
    return dict(type='dynamicnet.EpisodicDataset', n_way=5, k_shot=1, n_query=15,
                num_episodes=600, episode_seed=0, dataset=_split(split, test_pipeline))


train_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=_split('base', train_pipeline))
val_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_episodes('val'))
test_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_episodes('novel'))
# Base-class images (with masks) for FOT: extractor / generator training and the posture bank.
fot_base_train = _split('base', mask_train_pipeline)
fot_base_bank = _split('base', test_pipeline)
