# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny fine-grained few-shot data (dynamicnet.datasets.tiny.fewshot): 20 "creature" classes of
# 20 images (64 px) on cluttered backgrounds with binary masks, split 10 base / 5 val / 5 novel
# by the CUB rule into the split files it writes. Tiny synthetic data for CPU runs and tests, not a
# benchmark. Make it with
#   python tools/dataset_converters/make_tiny_data.py fewshot --out data/tiny/fewshot
_base_ = ['./fewshot_loaders.py']
data_root = 'data/tiny/fewshot/'
class_splits = dict(base='splits/base.txt', val='splits/val.txt', novel='splits/novel.txt')
data_preprocessor = dict(num_classes=10)
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


# In-process loading (num_workers=0): 400 small images load faster than workers start.
train_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False,
                        dataset=_split('base', train_pipeline))
# 50 validation episodes keep the validation during the CPU pre-training short; the meta-test
# keeps the protocol's 600.
val_dataloader = dict(num_workers=0, persistent_workers=False,
                      dataset=dict(num_episodes=50, dataset=_split('val', test_pipeline)))
test_dataloader = dict(num_workers=0, persistent_workers=False,
                       dataset=dict(dataset=_split('novel', test_pipeline)))
# Base-class images (with masks) for FOT: extractor / generator training and the posture bank.
fot_base_train = _split('base', mask_train_pipeline)
fot_base_bank = _split('base', test_pipeline)
