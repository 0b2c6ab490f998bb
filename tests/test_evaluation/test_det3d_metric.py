# Copyright (c) dynamicnet contributors. All rights reserved.
"""PresentClassIndoorMetric: mAP over classes with ground truth (no NaN on tiny splits)."""
import numpy as np
import pytest
import torch

pytest.importorskip('mmdet3d')


def test_map_skips_classes_without_ground_truth():
    from mmdet3d.evaluation import IndoorMetric
    from mmdet3d.structures import DepthInstance3DBoxes

    from dynamicnet.evaluation.det3d import PresentClassIndoorMetric

    gt = dict(gt_bboxes_3d=DepthInstance3DBoxes(torch.tensor([[0., 0, 0, 1, 1, 1, 0],
                                                              [3., 0, 0, 1, 1, 1, 0]])),
              gt_labels_3d=np.array([0, 1]))
    # Class 0 found exactly, class 1 missed, class 2 (absent from the split) predicted.
    pred = dict(bboxes_3d=DepthInstance3DBoxes(torch.tensor([[0., 0, 0, 1, 1, 1, 0],
                                                             [-3., 0, 0, 1, 1, 1, 0]])),
                scores_3d=torch.tensor([0.9, 0.8]), labels_3d=torch.tensor([0, 2]))
    meta = dict(classes=('a', 'b', 'c'), box_type_3d='depth')
    upstream, ours = IndoorMetric(), PresentClassIndoorMetric()
    upstream.dataset_meta = ours.dataset_meta = meta
    before = upstream.compute_metrics([(gt, pred)])
    after = ours.compute_metrics([(gt, pred)])
    assert np.isnan(before['mAP_0.25']) and np.isnan(after['c_AP_0.25'])
    assert after['a_AP_0.25'] == pytest.approx(1.0) and after['b_AP_0.25'] == 0.0
    assert after['mAP_0.25'] == pytest.approx(0.5) and after['mAP_0.50'] == pytest.approx(0.5)
    assert after['mAR_0.25'] == pytest.approx(0.5)
