# Copyright (c) dynamicnet contributors. All rights reserved.
"""Few-shot accuracy over episodes: mean and 95% confidence interval."""
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from mmengine.evaluator import BaseMetric

from dynamicnet.registry import METRICS

__all__ = ['mean_confidence_interval', 'EpisodicAccuracy']


def mean_confidence_interval(values: Sequence[float],
                             z: float = 1.96,
                             ddof: int = 0) -> Tuple[float, float, float]:
    """``(mean, std, z * std / sqrt(n))`` of per-episode values.

    The field's convention (Chen et al., ICLR 2019 code, [unconfirmed] recollection) is the
    normal-approximation half-width ``1.96 * std / sqrt(n)`` with the population std
    (``ddof=0``, numpy's default).
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise ValueError('no episodes')
    std = float(arr.std(ddof=ddof)) if arr.size > ddof else 0.0
    return float(arr.mean()), std, z * std / float(np.sqrt(arr.size))


@METRICS.register_module()
class EpisodicAccuracy(BaseMetric):
    """Mean few-shot query accuracy (%) over episodes with its confidence interval.

    Consumes the per-episode records ``dict(episode_idx=int, accuracy=float in [0, 1])`` that
    :class:`dynamicnet.engine.loops.MetaTestLoop` passes as ``data_samples``. Reports
    ``accuracy`` (mean, %), ``ci95`` (``z * std / sqrt(n)``, %), ``std`` (%) and
    ``num_episodes``.

    Args:
        z: Normal quantile of the interval (1.96 for 95%).
        ddof: Delta degrees of freedom of the std (0, the field's convention).
        collect_device, prefix: See :class:`mmengine.evaluator.BaseMetric`.
    """
    default_prefix = 'fewshot'

    def __init__(self,
                 z: float = 1.96,
                 ddof: int = 0,
                 collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.z = z
        self.ddof = ddof

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for record in data_samples:
            self.results.append(
                dict(episode_idx=int(record['episode_idx']), accuracy=float(record['accuracy'])))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        accs = [r['accuracy'] * 100 for r in sorted(results, key=lambda r: r['episode_idx'])]
        mean, std, ci = mean_confidence_interval(accs, self.z, self.ddof)
        return dict(accuracy=mean, ci95=ci, std=std, num_episodes=len(accs))
