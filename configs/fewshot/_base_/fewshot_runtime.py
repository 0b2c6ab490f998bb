# Copyright (c) dynamicnet contributors. All rights reserved.
# Few-shot runtime: mmpretrain's runtime (default_scope='mmpretrain') plus episodic evaluation.
# val: episodes of the validation classes during pre-training; test: the novel classes
# (`python tools/test.py CONFIG CHECKPOINT`). The model bases give the MetaTestLoop and its
# per-episode head (val_cfg / test_cfg), fitted on frozen features.
_base_ = ['mmpretrain::_base_/default_runtime.py']
val_evaluator = dict(type='dynamicnet.EpisodicAccuracy')
test_evaluator = dict(type='dynamicnet.EpisodicAccuracy')
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=50, max_keep_ckpts=2,
                    save_best='fewshot/accuracy', rule='greater'))
randomness = dict(seed=0)
