# Copyright (c) dynamicnet contributors. All rights reserved.
"""MetaTestLoop on mmengine's Runner with the tiny fine-grained few-shot data."""
import copy
import json

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from dynamicnet.engine.loops import NovelClassLeakageError, eval_mode_guard
from dynamicnet.engine.loops.meta_test_loop import extract_features

SPLITS = dict(base='splits/base.txt', val='splits/val.txt', novel='splits/novel.txt')
PIPELINE = [
    dict(type='LoadImageFromFile'),
    dict(type='dynamicnet.LoadForegroundMask'),
    dict(type='PackInputs', algorithm_keys=('gt_seg_map', )),
]


def split_cfg(root, split, pipeline=PIPELINE):
    return dict(
        type='dynamicnet.ClassSplitDataset', split=split, class_splits=SPLITS, split_root=root,
        dataset=dict(type='CustomDataset', data_root=root, data_prefix='images',
                     pipeline=pipeline))


def make_cfg(root, work_dir, num_episodes=6, k_shot=1, workers=0, **loop) -> Config:
    train_pipeline = PIPELINE[:2] + [dict(type='RandomFlip', prob=0.5, direction='horizontal'),
                                     PIPELINE[2]]
    episodes = dict(
        batch_size=2, num_workers=workers, persistent_workers=False,
        sampler=dict(type='DefaultSampler', shuffle=False),
        dataset=dict(type='dynamicnet.EpisodicDataset', n_way=5, k_shot=k_shot, n_query=5,
                     num_episodes=num_episodes, episode_seed=0,
                     dataset=split_cfg(root, 'novel')))
    loop_cfg = dict(type='dynamicnet.MetaTestLoop',
                    head=dict(type='dynamicnet.CosineFewShotHead', num_epochs=20))
    loop_cfg.update(loop)
    return Config(dict(
        default_scope='mmpretrain',
        work_dir=str(work_dir),
        randomness=dict(seed=0),
        model=dict(
            type='ImageClassifier',
            data_preprocessor=dict(num_classes=10, mean=[123.675, 116.28, 103.53],
                                   std=[58.395, 57.12, 57.375], to_rgb=True),
            backbone=dict(type='ResNet', depth=18, stem_channels=8, base_channels=8,
                          out_indices=(3, )),
            neck=dict(type='GlobalAveragePooling'),
            head=dict(type='LinearClsHead', num_classes=10, in_channels=64,
                      loss=dict(type='CrossEntropyLoss'))),
        train_dataloader=dict(batch_size=16, num_workers=0, dataset=split_cfg(
            root, 'base', train_pipeline), sampler=dict(type='DefaultSampler', shuffle=True)),
        train_cfg=dict(by_epoch=True, max_epochs=4, val_interval=4),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9,
                                          weight_decay=5e-4)),
        val_dataloader=episodes,
        val_evaluator=dict(type='dynamicnet.EpisodicAccuracy'),
        val_cfg=loop_cfg,
        test_dataloader=copy.deepcopy(episodes),
        test_evaluator=dict(type='dynamicnet.EpisodicAccuracy'),
        test_cfg=copy.deepcopy(loop_cfg),
        default_hooks=dict(logger=dict(type='LoggerHook', interval=5),
                           checkpoint=dict(type='CheckpointHook', interval=100)),
        log_level='WARNING'))


@pytest.fixture
def root(tiny_data_root, default_scope):
    default_scope('mmpretrain')
    return tiny_data_root('fewshot')


def test_ci_and_accuracy_against_independent_implementation(root, tmp_path):
    out_file = tmp_path / 'episodes.json'
    cfg = make_cfg(root, tmp_path, num_episodes=5, out_file=str(out_file),
                   head=dict(type='dynamicnet.PrototypeHead', transductive_steps=0))
    runner = Runner.from_cfg(cfg)
    metrics = runner.val()
    records = json.load(open(out_file))
    accs = np.array([r['accuracy'] for r in records]) * 100
    assert [r['episode_idx'] for r in records] == list(range(5))
    assert metrics['fewshot/accuracy'] == pytest.approx(accs.mean())
    assert metrics['fewshot/ci95'] == pytest.approx(1.96 * accs.std() / np.sqrt(5))
    assert metrics['fewshot/num_episodes'] == 5
    # Nearest class mean, re-implemented on the frozen features of episode 3.
    model = runner.model.eval()
    ep = runner.val_dataloader.dataset[3]
    with torch.no_grad():
        s = extract_features(model, torch.stack(ep.support_inputs).float())
        q = extract_features(model, torch.stack(ep.query_inputs).float())
    protos = torch.stack([s[ep.support_labels == c].mean(0) for c in range(5)])
    pred = ((q[:, None] - protos[None]) ** 2).sum(-1).argmin(1)
    assert (pred == ep.query_labels).float().mean().item() == pytest.approx(records[3]['accuracy'])
    assert records[3]['classes'] == ep.classes.tolist()


def test_identical_results_across_runs_and_worker_counts(root, tmp_path):
    results = []
    for i, workers in enumerate((0, 2, 0)):
        out = tmp_path / f'ep{i}.json'
        cfg = make_cfg(root, tmp_path / str(i), num_episodes=4, workers=workers,
                       out_file=str(out))
        Runner.from_cfg(cfg).val()
        results.append(json.load(open(out)))
    assert results[0] == results[1] == results[2]


def test_baseline_above_chance_after_base_pretraining(root, tmp_path):
    cfg = make_cfg(root, tmp_path, num_episodes=6)
    runner = Runner.from_cfg(cfg)
    before = runner.val()['fewshot/accuracy']
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert np.mean(losses[-3:]) < 0.7 * np.mean(losses[:3])
    after = runner.val()['fewshot/accuracy']
    assert after > 60.0 > 20.0  # 5-way chance is 20%
    assert after > before + 20.0
    test = runner.test()
    assert test['fewshot/accuracy'] == pytest.approx(after)  # same episodes, same model


def test_fot_pipeline_end_to_end_and_identity_equivalence(root, tmp_path):
    outs = {}
    fot = dict(type='dynamicnet.FOTTransform', n_aug=1, num_postures=8,
               extractor=dict(type='dynamicnet.SaliencyExtractor', base_channels=4,
                              num_levels=2),
               generator=dict(type='dynamicnet.PostureGenerator', base_channels=4, num_levels=2),
               posture_bank=split_cfg(root, 'base'))
    variants = dict(
        plain={},
        identity=dict(episode_transform=dict(type='dynamicnet.FOTTransform')),
        fot=dict(episode_transform=fot, setting='transductive'))
    for name, loop in variants.items():
        out = tmp_path / f'{name}.json'
        cfg = make_cfg(root, tmp_path / name, num_episodes=3, out_file=str(out), **loop)
        runner = Runner.from_cfg(cfg)
        state = {k: v.clone() for k, v in runner.model.state_dict().items()}
        metrics = runner.val()
        assert 0.0 <= metrics['fewshot/accuracy'] <= 100.0
        # Meta-test leaves the model untouched (BN statistics included).
        assert all(torch.equal(v, runner.model.state_dict()[k]) for k, v in state.items())
        outs[name] = json.load(open(out))
    assert outs['plain'] == outs['identity']  # n_aug=0 + identity extractor: exact baseline
    assert len(outs['fot']) == 3


def test_leakage_guard(root, tmp_path):
    bn = torch.nn.BatchNorm2d(3)
    with pytest.raises(NovelClassLeakageError):
        with eval_mode_guard([torch.nn.Sequential(bn)]):
            bn(torch.rand(2, 3, 4, 4))
    with eval_mode_guard([bn.eval()]):
        bn(torch.rand(2, 3, 4, 4))
    bn.train()
    bn(torch.rand(2, 3, 4, 4))  # hooks are removed afterwards

    fot = dict(type='dynamicnet.FOTTransform',
               extractor=dict(type='dynamicnet.SaliencyExtractor', base_channels=4,
                              num_levels=1))
    runner = Runner.from_cfg(make_cfg(root, tmp_path, num_episodes=2, episode_transform=fot))
    extractor = runner.val_loop.episode_transform.extractor
    saliency = extractor.saliency

    def leaky_saliency(imgs01, masks=None):
        extractor.net.train()  # e.g. a component that fine-tunes itself on the episode
        return saliency(imgs01, masks)

    extractor.saliency = leaky_saliency
    with pytest.raises(NovelClassLeakageError, match='training mode'):
        runner.val()
