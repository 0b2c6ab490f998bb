# Copyright (c) dynamicnet contributors. All rights reserved.
"""The multi-exit contract: loss over exits, predict fields, real early exit, per-exit MACs."""
from collections import namedtuple
from typing import List

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.structures import DataSample
from torch.utils.flop_counter import FlopCounterMode

from dynamicnet.models.classifiers.multi_exit import MultiExitClassifier, select_batch


class ToyMultiExit(MultiExitClassifier):
    """Three conv stages, a linear exit on the pooled map after each; records batch sizes."""

    num_exits = 3

    def __init__(self, num_classes: int = 4):
        super().__init__()
        self.stages = nn.ModuleList([
            nn.Conv2d(3, 8, 3, padding=1),
            nn.Conv2d(8, 8, 3, stride=2, padding=1),
            nn.Conv2d(8, 16, 3, stride=2, padding=1),
        ])
        self.exits = nn.ModuleList([nn.Linear(8, num_classes), nn.Linear(8, num_classes),
                                    nn.Linear(16, num_classes)])
        self.seen_batches: List[int] = []

    def forward_stage(self, k, state):
        self.seen_batches.append(state.size(0))
        feat = F.relu(self.stages[k](state))
        return self.exits[k](feat.mean((2, 3))), feat


def _samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


@pytest.fixture
def toy():
    torch.manual_seed(0)
    return ToyMultiExit().eval()


def test_tensor_mode_and_loss_is_sum_of_exit_ce(toy):
    x = torch.randn(5, 3, 8, 8)
    labels = torch.tensor([0, 1, 2, 3, 0])
    logits = toy(x, mode='tensor')
    assert logits.shape == (3, 5, 4)
    losses = toy(x, _samples(labels), mode='loss')
    assert sorted(losses) == ['loss_exit0', 'loss_exit1', 'loss_exit2']
    for k in range(3):
        torch.testing.assert_close(losses[f'loss_exit{k}'], F.cross_entropy(logits[k], labels))
    toy.exit_weights = [1.0, 0.5, 0.25]
    weighted = toy.loss(x, _samples(labels))
    torch.testing.assert_close(weighted['loss_exit2'], 0.25 * F.cross_entropy(logits[2], labels))


def test_predict_stores_exit_scores_and_costs(toy):
    x = torch.randn(2, 3, 8, 8)
    out = toy(x, _samples([1, 2]), mode='predict')
    logits = toy(x, mode='tensor')
    assert out[0].exit_scores.shape == (3, 4)
    torch.testing.assert_close(out[1].exit_scores, F.softmax(logits[:, 1], dim=1))
    torch.testing.assert_close(out[1].pred_score, F.softmax(logits[2, 1], dim=0))
    assert out[0].exit_costs.tolist() == toy.exit_costs((3, 8, 8))


def test_exit_costs_match_an_independent_count(toy):
    # hand count: conv MACs = H_out*W_out*C_out*C_in*9, linear in*out, cumulative
    own = [8 * 8 * 8 * 3 * 9 + 8 * 4, 4 * 4 * 8 * 8 * 9 + 8 * 4, 2 * 2 * 16 * 8 * 9 + 16 * 4]
    expected = [sum(own[:k + 1]) for k in range(3)]
    assert toy.exit_costs((3, 8, 8)) == expected
    # torch's own FLOP counter (2 FLOPs per MAC) on the full forward agrees with F_K
    with FlopCounterMode(display=False) as counter:
        toy(torch.zeros(1, 3, 8, 8), mode='tensor')
    assert counter.get_total_flops() == 2 * expected[-1]


def test_threshold_zero_exits_everything_at_first_exit(toy):
    x = torch.randn(6, 3, 8, 8)
    logits = toy(x, mode='tensor')
    toy.seen_batches.clear()
    scores, index = toy.early_exit(x, [0.0, 0.0, 0.0])
    assert index.tolist() == [0] * 6
    torch.testing.assert_close(scores, F.softmax(logits[0], dim=1))
    assert toy.seen_batches == [6]  # stages 2 and 3 never ran


def test_threshold_above_one_sends_everything_to_last_exit(toy):
    x = torch.randn(6, 3, 8, 8)
    logits = toy(x, mode='tensor')
    toy.seen_batches.clear()
    scores, index = toy.early_exit(x, [1.01, 1.01, 1.01])
    assert index.tolist() == [2] * 6
    torch.testing.assert_close(scores, F.softmax(logits[2], dim=1))
    assert toy.seen_batches == [6, 6, 6]


def test_early_exit_partitions_the_batch_and_matches_offline_simulation(toy):
    torch.manual_seed(1)
    x = torch.randn(32, 3, 8, 8)
    with torch.no_grad():
        probs = F.softmax(toy(x, mode='tensor'), dim=2)
    conf = probs.max(2).values
    thresholds = [float(conf[0].median()), float(conf[1].median()), -1.0]
    expected_exit = torch.where(conf[0] >= thresholds[0], 0,
                                torch.where(conf[1] >= thresholds[1], 1, 2))
    toy.seen_batches.clear()
    scores, index = toy.early_exit(x, thresholds)
    assert index.tolist() == expected_exit.tolist()
    torch.testing.assert_close(scores, probs[index, torch.arange(32)])
    n0 = int((expected_exit == 0).sum())
    n1 = int((expected_exit == 1).sum())
    assert 0 < n0 < 32 and n1 > 0
    assert toy.seen_batches == [32, 32 - n0, 32 - n0 - n1]


def test_predict_with_thresholds_uses_the_early_exit_path(toy):
    x = torch.randn(4, 3, 8, 8)
    toy.test_cfg = dict(thresholds=[0.0, 0.0, 0.0])
    out = toy(x, _samples([0, 1, 2, 3]), mode='predict')
    logits = toy(x, mode='tensor')
    assert [s.exit_index for s in out] == [0, 0, 0, 0]
    torch.testing.assert_close(out[3].pred_score, F.softmax(logits[0, 3], dim=0))


def test_select_batch_walks_nested_states():
    state = dict(a=torch.arange(4), b=[torch.arange(8).view(4, 2), 'keep'], c=(torch.ones(4), ))
    pair = namedtuple('Pair', ['x', 'hw'])
    state['d'] = pair(torch.arange(4), (2, 2))
    out = select_batch(state, torch.tensor([3, 1]))
    assert type(out['d']) is pair  # named tuples keep their type
    assert out['d'].x.tolist() == [3, 1] and out['d'].hw == (2, 2)
    assert out['a'].tolist() == [3, 1]
    assert out['b'][0].tolist() == [[6, 7], [2, 3]]
    assert out['b'][1] == 'keep'
    assert out['c'][0].shape == (2, )
