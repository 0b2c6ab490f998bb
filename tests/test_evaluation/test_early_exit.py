# Copyright (c) dynamicnet contributors. All rights reserved.
"""Budgeted-batch threshold finder and EarlyExitMetric (dynamic-inference.md §4, §8)."""
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from dynamicnet.evaluation.metrics.early_exit import (EarlyExitMetric, budgeted_curve,
                                                      evaluate_thresholds, exit_proportions,
                                                      fit_thresholds, mean_average_precision)


# ---- transcription of the official finder / evaluator (MSDNet adaptive_inference.py) ----------
def official_find_threshold(max_preds, p):
    n_stage, n_sample = max_preds.size()
    _, sorted_idx = max_preds.sort(dim=1, descending=True)
    filtered = torch.zeros(n_sample)
    T = torch.Tensor(n_stage).fill_(1e8)
    for k in range(n_stage - 1):
        count = 0
        out_n = math.floor(n_sample * p[k])
        for i in range(n_sample):
            ori_idx = sorted_idx[k][i]
            if filtered[ori_idx] == 0:
                count += 1
                if count == out_n:
                    T[k] = max_preds[k][ori_idx]
                    break
        filtered.add_(max_preds[k].ge(T[k]).type_as(filtered))
    T[n_stage - 1] = -1e8
    return T


def official_eval_with_threshold(max_preds, argmax_preds, targets, flops, T):
    n_stage, n_sample = max_preds.size()
    acc, expected_flops = 0, 0.0
    exp = torch.zeros(n_stage)
    for i in range(n_sample):
        gold = targets[i]
        for k in range(n_stage):
            if max_preds[k][i].item() >= T[k]:
                if int(gold.item()) == int(argmax_preds[k][i].item()):
                    acc += 1
                exp[k] += 1
                break
    for k in range(n_stage):
        expected_flops += 1.0 * exp[k] / n_sample * flops[k]
    return acc * 100.0 / n_sample, expected_flops


def official_proportions(p, n_stage):
    _p = torch.FloatTensor(1).fill_(p * 1.0 / 20)
    probs = torch.exp(torch.log(_p) * torch.arange(1, n_stage + 1).float())
    return probs / probs.sum()


def _random_exits(num_exits, num, num_classes=5, seed=0, rounding=None):
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(torch.randn(num_exits, num, num_classes, generator=g) * 2, dim=2)
    conf, pred = probs.max(2)
    if rounding:  # force ties
        conf = (conf * rounding).round() / rounding
    labels = torch.randint(0, num_classes, (num, ), generator=g)
    return conf, pred, labels


@pytest.mark.parametrize('num_exits,num,rounding,seed',
                         [(3, 200, None, 0), (5, 137, None, 1), (4, 300, 20, 2), (2, 50, 10, 3)])
def test_finder_and_evaluation_match_the_official_loops(num_exits, num, rounding, seed):
    fit_conf, _, _ = _random_exits(num_exits, num, seed=seed, rounding=rounding)
    conf, pred, labels = _random_exits(num_exits, num + 17, seed=seed + 100, rounding=rounding)
    costs = [float(10 * (k + 1)**2) for k in range(num_exits)]
    for p in range(1, 40):
        props = exit_proportions(p / 20, num_exits)
        torch.testing.assert_close(props, official_proportions(p, num_exits))
        mine = fit_thresholds(fit_conf, props)
        ref = official_find_threshold(fit_conf, official_proportions(p, num_exits))
        assert mine.tolist() == ref.tolist()
        acc, cost, _ = evaluate_thresholds(conf, pred == labels, mine, costs)
        ref_acc, ref_cost = official_eval_with_threshold(conf, pred, labels, costs, ref)
        assert acc == pytest.approx(ref_acc, abs=1e-9)
        assert cost == pytest.approx(float(ref_cost), rel=1e-6)


def test_threshold_extremes():
    conf, pred, labels = _random_exits(3, 100)
    correct = pred == labels
    costs = [1.0, 3.0, 6.0]
    acc, cost, counts = evaluate_thresholds(conf, correct, torch.tensor([0.0, 0.5, -1e8]), costs)
    assert counts.tolist() == [100, 0, 0]
    assert cost == 1.0
    assert acc == pytest.approx(correct[0].float().mean().item() * 100)
    acc, cost, counts = evaluate_thresholds(conf, correct, torch.tensor([1.01, 1.01, 1.01]),
                                            costs)
    assert counts.tolist() == [0, 0, 100]
    assert cost == 6.0
    assert acc == pytest.approx(correct[2].float().mean().item() * 100)


def test_fitted_thresholds_meet_the_requested_proportions_without_ties():
    num = 1000
    conf, _, _ = _random_exits(4, num, seed=5)
    assert conf.unique().numel() > 0.99 * conf.numel()  # effectively tie-free
    for q in (0.1, 0.5, 1.0, 1.5):
        props = exit_proportions(q, 4)
        thresholds = fit_thresholds(conf, props)
        _, _, counts = evaluate_thresholds(conf, torch.ones(4, num, dtype=torch.bool), thresholds,
                                           [1, 2, 3, 4])
        expected = [math.floor(float(num * props[k])) for k in range(3)]
        assert counts[:3].tolist() == expected
        assert int(counts[3]) == num - sum(expected)
    one_hot = torch.tensor([0.0, 1.0, 0.0, 0.0])
    _, _, counts = evaluate_thresholds(conf, torch.ones(4, num, dtype=torch.bool),
                                       fit_thresholds(conf, one_hot), [1, 2, 3, 4])
    assert counts.tolist() == [0, num, 0, 0]


def test_budget_cost_is_non_decreasing_in_q_on_the_fitting_set():
    conf, pred, labels = _random_exits(4, 400, seed=7)
    costs = [1.0, 2.0, 4.0, 8.0]
    curve = budgeted_curve(conf, conf, pred == labels, costs, (1, 40))
    assert len(curve['macs']) == 39
    for a, b in zip(curve['macs'], curve['macs'][1:]):
        assert b >= a - costs[-1] / 400
    assert curve['macs'][0] < 1.2 and curve['macs'][-1] > 5.0
    assert len(budgeted_curve(conf, conf, pred == labels, costs, (1, 60))['q']) == 59


def _data_samples(conf, pred, labels, costs, num_classes=5):
    samples = []
    for i in range(conf.size(1)):
        scores = torch.full((conf.size(0), num_classes), 0.0)
        for k in range(conf.size(0)):
            rest = (1 - conf[k, i]) / (num_classes - 1)
            scores[k] = rest
            scores[k, pred[k, i]] = conf[k, i]
        samples.append(dict(exit_scores=scores, gt_label=labels[i:i + 1],
                            exit_costs=torch.tensor(costs, dtype=torch.float64)))
    return samples


def test_metric_anytime_budget_fitting_pass_and_order_invariance(tmp_path):
    fit_conf, fit_pred, fit_labels = _random_exits(3, 120, seed=11)
    conf, pred, labels = _random_exits(3, 80, seed=12)
    costs = [5.0, 9.0, 20.0]
    fit_samples = _data_samples(fit_conf, fit_pred, fit_labels, costs)
    test_samples = _data_samples(conf, pred, labels, costs)

    metric = EarlyExitMetric(save_fit_file=str(tmp_path / 'fit.npz'), fit_set='toy-fit')
    metric.start_fitting()
    metric.process(None, fit_samples)
    metric.finish_fitting(len(fit_samples))
    metric.process(None, test_samples)
    res = metric.evaluate(len(test_samples))

    for k in range(3):
        expected = (pred[k] == labels).double().mean().item() * 100
        assert res[f'early_exit/exit{k + 1}/top1'] == pytest.approx(expected)
        assert res[f'early_exit/exit{k + 1}/macs'] == costs[k]
    assert res['early_exit/fit_set'] == 'toy-fit' and res['early_exit/fit_size'] == 120
    ref = budgeted_curve(fit_conf, conf, pred == labels, costs)
    assert res['early_exit/budget/top1'] == pytest.approx(ref['top1'])
    assert res['early_exit/budget/macs'] == pytest.approx(ref['macs'])

    with np.load(tmp_path / 'fit.npz') as stored:
        assert stored['conf'].shape == (3, 120) and stored['label'].shape == (120, )
    # a second metric fits from the stored file; test samples in another order
    again = EarlyExitMetric(fit_file=str(tmp_path / 'fit.npz'))
    perm = torch.randperm(80, generator=torch.Generator().manual_seed(0))
    again.process(None, [test_samples[i] for i in perm])
    res2 = again.evaluate(80)
    assert res2['early_exit/budget/top1'] == pytest.approx(res['early_exit/budget/top1'])
    assert res2['early_exit/budget/macs'] == pytest.approx(res['early_exit/budget/macs'])

    alone = EarlyExitMetric()
    alone.process(None, test_samples)
    assert alone.evaluate(80)['early_exit/fit_set'] == 'test'


# ---- mAP (AdaFocus+ on ActivityNet / FCVID) ---------------------------------------------------
def test_mean_average_precision_hand_computed_toy():
    scores = torch.tensor([[0.7, 0.2, 0.1], [0.5, 0.4, 0.1], [0.1, 0.3, 0.6], [0.2, 0.7, 0.1]])
    labels = torch.tensor([0, 1, 0, 1])
    # class 0: positives at ranks 1 and 4 -> (1/1 + 2/4) / 2 = 0.75; class 1: ranks 1, 2 -> 1;
    # class 2 has no positive and counts 0 (official cal_map)
    assert mean_average_precision(scores, labels) == pytest.approx((0.75 + 1 + 0) / 3 * 100)


def _sklearn_map(scores, labels):
    """Independent mAP: sklearn AP per class with positives, 0 for the others."""
    average_precision_score = pytest.importorskip('sklearn.metrics').average_precision_score
    aps = [
        average_precision_score((labels == c).numpy(), scores[:, c].numpy())
        if (labels == c).any() else 0.0 for c in range(scores.size(1))
    ]
    return float(np.mean(aps)) * 100


def _random_scores(num_exits, num, num_classes, seed):
    g = torch.Generator().manual_seed(seed)
    # later exits are sharper and more often right, as in a real multi-exit model
    labels = torch.randint(0, num_classes, (num, ), generator=g)
    logits = torch.randn(num_exits, num, num_classes, generator=g)
    logits += torch.arange(1, num_exits + 1).view(-1, 1, 1) * F.one_hot(labels, num_classes)
    return torch.softmax(logits, dim=2), labels


def test_mean_average_precision_matches_sklearn():
    scores, labels = _random_scores(1, 300, 7, seed=3)
    labels[labels == 6] = 5  # one class without positives
    assert mean_average_precision(scores[0], labels) == pytest.approx(
        _sklearn_map(scores[0], labels), abs=1e-4)


def test_metric_map_per_exit_and_along_the_budget():
    costs = [4.0, 7.0, 12.0]
    fit_scores, fit_labels = _random_scores(3, 150, 6, seed=21)
    scores, labels = _random_scores(3, 120, 6, seed=22)

    def samples(s, y):
        return [dict(exit_scores=s[:, i], gt_label=y[i:i + 1],
                     exit_costs=torch.tensor(costs, dtype=torch.float64))
                for i in range(s.size(1))]

    metric = EarlyExitMetric(mean_ap=True, fit_set='toy-fit')
    metric.start_fitting()
    metric.process(None, samples(fit_scores, fit_labels))
    assert 'scores' not in metric.results[0]  # the fitting set only needs the confidences
    metric.finish_fitting(150)
    metric.process(None, samples(scores, labels))
    res = metric.evaluate(120)

    for k in range(3):
        assert res[f'early_exit/exit{k + 1}/mAP'] == pytest.approx(
            _sklearn_map(scores[k], labels), abs=1e-4)
        assert res[f'early_exit/exit{k + 1}/top1'] == pytest.approx(
            (scores[k].argmax(1) == labels).double().mean().item() * 100)
    fit_conf = fit_scores.max(2).values
    test_conf, test_pred = scores.max(2)
    budget_map = res['early_exit/budget/mAP']
    assert len(budget_map) == 39
    for p, value in zip(range(1, 40), budget_map):
        thresholds = official_find_threshold(fit_conf, official_proportions(p, 3))
        # the exit of every sample by the official per-sample loop, then sklearn on its scores
        taken = [next(k for k in range(3) if k == 2 or test_conf[k, i] >= thresholds[k])
                 for i in range(120)]
        chosen = torch.stack([scores[k, i] for i, k in enumerate(taken)])
        assert value == pytest.approx(_sklearn_map(chosen, labels), abs=1e-4)
    ref = budgeted_curve(fit_conf, test_conf, test_pred == labels, costs)
    assert res['early_exit/budget/top1'] == pytest.approx(ref['top1'])
    assert res['early_exit/budget/macs'] == pytest.approx(ref['macs'])
    # mAP moves with the budget: cheapest point near exit 1, dearest near exit 3
    assert budget_map[0] == pytest.approx(res['early_exit/exit1/mAP'], abs=5)
    assert budget_map[-1] > budget_map[0] + 10


def test_metric_without_map_keeps_its_keys():
    scores, labels = _random_scores(2, 40, 4, seed=5)
    metric = EarlyExitMetric()
    metric.process(None, [
        dict(exit_scores=scores[:, i], gt_label=labels[i:i + 1],
             exit_costs=torch.tensor([1.0, 2.0], dtype=torch.float64)) for i in range(40)
    ])
    assert 'scores' not in metric.results[0]
    res = metric.evaluate(40)
    assert not any('mAP' in key for key in res)
