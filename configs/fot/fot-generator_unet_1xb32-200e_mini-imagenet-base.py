# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT posture transformation generator (dynamicnet's reconstruction, fot.md §4.2 [unconfirmed]):
# trained on pairs of mini-ImageNet *base*-class images of the same class, G(x_fg^a, S^a, S^b)
# reconstructs x^b inside S^b (masked L1). Masks: saliency maps of the frozen DUTS extractor
# (mask_extractor), since mini-ImageNet has no masks.
_base_ = [
    '../fewshot/_base_/datasets/mini-imagenet_fewshot.py',
    'mmpretrain::_base_/default_runtime.py'
]
data_preprocessor = None  # the generator scales images to [0, 1] itself
model = dict(
    type='dynamicnet.PostureGenerator',
    base_channels=32,
    num_levels=4,
    fill='zero',  # match the extractor's fill used at meta-test
    mask_extractor=dict(
        type='dynamicnet.SaliencyExtractor', binarize=0.5,
        init_cfg=dict(type='Pretrained',
                      checkpoint='work_dirs/fot-extractor_unet_1xb32-100e_duts/epoch_100.pth')),
    loss_type='l1')
train_dataloader = dict(
    batch_size=32,
    dataset=dict(
        _delete_=True, type='dynamicnet.PosturePairDataset', seed=0, identity_prob=0.1,
        dataset={{_base_.fot_base_train}}))
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
train_cfg = dict(by_epoch=True, max_epochs=200)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=20, max_keep_ckpts=2))
