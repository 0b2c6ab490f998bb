# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT posture transformation generator training (fot.md §4.2 [unconfirmed]): on pairs of same-class
# *base* images (PosturePairDataset: a seeded partner per image, 10% self-pairs),
# G(x_fg^a, S^a, S^b) reconstructs x^b inside S^b (masked L1), 200 epochs. A leaf sets
# train_dataloader.dataset = dict(posture_pairs, dataset=<its base-class data>).
_base_ = ['./fot_stage_runtime.py']
model = dict(_base_.fot_generator, loss_type='l1')
posture_pairs = dict(type='dynamicnet.PosturePairDataset', seed=0, identity_prob=0.1)
train_cfg = dict(by_epoch=True, max_epochs=200)
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=20, max_keep_ckpts=2))
