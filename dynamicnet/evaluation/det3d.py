# Copyright (c) dynamicnet contributors. All rights reserved.
"""3D detection metrics: they need mmdet3d and are imported explicitly (a config's
``custom_imports=dict(imports=['dynamicnet.evaluation.det3d'])``), never by
``dynamicnet.evaluation``'s ``__init__``."""
from typing import Dict, List

import numpy as np
from mmdet3d.evaluation import IndoorMetric
from mmengine.logging import print_log

from dynamicnet.registry import METRICS

__all__ = ['PresentClassIndoorMetric']


@METRICS.register_module()
class PresentClassIndoorMetric(IndoorMetric):
    """mmdet3d's ``IndoorMetric`` with mAP / mAR averaged over the classes present in the split.

    ``indoor_eval`` averages the per-class AP over every class that has ground truth **or**
    predictions; a class without ground truth has AP = NaN, so the mean is NaN whenever the model
    predicts a class the split lacks. That never happens on ScanNet's validation set (all 18
    classes occur), where both metrics agree, but it does on tiny splits of a few scenes. Here the
    means skip those NaN entries (the usual VOC-style "mean over classes with ground truth").

    Args:
        *args, **kwargs: As for ``mmdet3d.evaluation.IndoorMetric``.
    """

    def compute_metrics(self, results: List[tuple]) -> Dict[str, float]:
        metrics = super().compute_metrics(results)
        for thr in self.iou_thr:
            for per_class, mean in ((f'_AP_{thr:.2f}', f'mAP_{thr:.2f}'),
                                    (f'_rec_{thr:.2f}', f'mAR_{thr:.2f}')):
                values = [v for k, v in metrics.items()
                          if k.endswith(per_class) and not np.isnan(v)]
                metrics[mean] = float(np.mean(values)) if values else 0.0
            print_log(f'mAP_{thr:.2f} over the {len(values)} classes with ground truth: '
                      f'{metrics[f"mAP_{thr:.2f}"]:.4f}', logger='current')
        return metrics
