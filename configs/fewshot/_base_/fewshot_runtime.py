# Copyright (c) dynamicnet contributors. All rights reserved.
# Few-shot runtime: mmpretrain's runtime (default_scope='mmpretrain') plus episodic evaluation.
# val: episodes of the validation classes during pre-training; test: the novel classes
# (`python tools/test.py CONFIG CHECKPOINT`). The head is fitted per episode on frozen features.
_base_ = ['mmpretrain::_base_/default_runtime.py']

# Meta-test head: Baseline++ (cosine) by default (fot.md §5 `finetune`); Baseline is
# dict(type='dynamicnet.LinearFewShotHead'), nearest class mean
# dict(type='dynamicnet.PrototypeHead').
fewshot_head = dict(type='dynamicnet.CosineFewShotHead')
val_cfg = dict(type='dynamicnet.MetaTestLoop', head=fewshot_head, setting='inductive')
test_cfg = dict(type='dynamicnet.MetaTestLoop', head=fewshot_head, setting='inductive')
val_evaluator = dict(type='dynamicnet.EpisodicAccuracy')
test_evaluator = dict(type='dynamicnet.EpisodicAccuracy')
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=50, max_keep_ckpts=2,
                    save_best='fewshot/accuracy', rule='greater'))
randomness = dict(seed=0)
