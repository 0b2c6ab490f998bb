# Copyright (c) dynamicnet contributors. All rights reserved.
# Loaders shared by every few-shot dataset base in this folder: shuffled base-class batches for
# pre-training, and the seeded episodes of the field's protocol (fot.md §4.4-§5) for validation
# (val classes) and meta-test (novel classes): 5-way, 1-shot (the 5-shot configs set k_shot=5),
# 15 queries per class, 600 episodes, episode_seed=0. A dataset base inherits this file and only
# adds its datasets: train_dataloader.dataset and the `dataset` of the episodic wrappers.
data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    to_rgb=True)
episodes = dict(
    type='dynamicnet.EpisodicDataset',
    n_way=5,
    k_shot=1,
    n_query=15,
    num_episodes=600,
    episode_seed=0)
train_dataloader = dict(
    batch_size=64, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(
    batch_size=1, num_workers=4, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=episodes)
test_dataloader = dict(val_dataloader)
