# Copyright (c) dynamicnet contributors. All rights reserved.
"""Mean accuracy and 95% confidence interval over episodes."""
import math

import pytest

from dynamicnet.evaluation.metrics import EpisodicAccuracy
from dynamicnet.evaluation.metrics.episodic_accuracy import mean_confidence_interval


def test_mean_confidence_interval_by_hand():
    accs = [0.6, 0.8, 0.7, 0.9]
    mean = 0.75
    std = math.sqrt(sum((a - mean) ** 2 for a in accs) / 4)
    got = mean_confidence_interval(accs)
    assert got == pytest.approx((mean, std, 1.96 * std / 2))
    sample_std = math.sqrt(sum((a - mean) ** 2 for a in accs) / 3)
    assert mean_confidence_interval(accs, ddof=1)[2] == pytest.approx(1.96 * sample_std / 2)
    with pytest.raises(ValueError):
        mean_confidence_interval([])


def test_metric_reports_percent_sorted_by_episode():
    metric = EpisodicAccuracy()
    metric.process(None, [dict(episode_idx=1, accuracy=0.5), dict(episode_idx=0, accuracy=1.0)])
    metric.process(None, [dict(episode_idx=2, accuracy=0.75)])
    out = metric.evaluate(3)
    std = math.sqrt(((50 - 75) ** 2 + (100 - 75) ** 2 + 0) / 3)
    assert out['fewshot/accuracy'] == pytest.approx(75.0)
    assert out['fewshot/std'] == pytest.approx(std)
    assert out['fewshot/ci95'] == pytest.approx(1.96 * std / math.sqrt(3))
    assert out['fewshot/num_episodes'] == 3
