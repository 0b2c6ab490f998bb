# Copyright (c) dynamicnet contributors. All rights reserved.
# mini-ImageNet (Vinyals et al. 2016; split of Ravi & Larochelle 2017): the general few-shot twin
# of the fine-grained configs. 64 base / 16 val / 20 novel classes, 600 images each, stored as
# class folders data/mini-imagenet/{train,val,test}/<wnid>/*.jpg (the usual conversion of the
# CSV release); each folder is one split, so no class-split wrapper is needed.
# No masks: FOT uses a saliency extractor trained on generic salient-object data (DUTS).
_base_ = ['./fewshot_224px.py']
data_root = 'data/mini-imagenet/'
split_folders = dict(base='train', val='val', novel='test')
data_preprocessor = dict(num_classes=64)


def _split(split, pipeline):
    return dict(type='CustomDataset', data_root=data_root, data_prefix=split_folders[split],
                pipeline=pipeline)


train_dataloader = dict(dataset=_split('base', _base_.train_pipeline))
val_dataloader = dict(dataset=dict(dataset=_split('val', _base_.test_pipeline)))
test_dataloader = dict(dataset=dict(dataset=_split('novel', _base_.test_pipeline)))
# Base-class images (no masks) for FOT: extractor / generator training and the posture bank.
fot_base_train = _split('base', _base_.mask_train_pipeline)
fot_base_bank = _split('base', _base_.test_pipeline)
