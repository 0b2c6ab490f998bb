# Copyright (c) dynamicnet contributors. All rights reserved.
from .cam_loss import CAMLoss, class_activation_map, map_distance, normalize_map
from .isda_loss import (ISDAEstimator, ISDALoss, classifier_weight, isda_augment,
                        isda_label_rows, runner_progress)
from .supcon_loss import SupConLoss, supcon_loss

__all__ = [
    'SupConLoss', 'supcon_loss', 'ISDAEstimator', 'ISDALoss', 'classifier_weight', 'isda_augment',
    'isda_label_rows', 'runner_progress', 'CAMLoss', 'class_activation_map', 'map_distance',
    'normalize_map'
]
