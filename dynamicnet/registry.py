# Copyright (c) dynamicnet contributors. All rights reserved.
"""dynamicnet's registries.

Every registry is a **direct child of the mmengine root registry** of the same role, with scope
``dynamicnet`` and ``locations`` that import its modules lazily. That makes ``type='dynamicnet.X'``
resolve from the mmpretrain, mmdet, mmseg, mmdet3d (and mmengine) default scopes, and
``_scope_='dynamicnet'`` work on composite configs (``../shared/specs/openmmlab.md`` §1.2-1.5).

Components that need an optional upstream library (mmseg, mmdet3d) live in modules listed in
``optional_locations``: they are imported the first time a lookup misses, and only if that
library is installed, so ``import dynamicnet.models`` never imports mmdet3d unless a 3D component
is asked for.

Parentless upstream registries (``mmpretrain.registry.BATCH_AUGMENTS``, mmdet3d's ``SA_MODULES``)
cannot be reached by prefix; dynamicnet components used by unmodified upstream code register
directly into those.
"""
import importlib
import importlib.util
from typing import Dict, List, Optional

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TASK_UTILS as MMENGINE_TASK_UTILS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import Registry

__all__ = [
    'DynamicnetRegistry', 'MODELS', 'TASK_UTILS', 'MODEL_WRAPPERS', 'DATASETS', 'DATA_SAMPLERS',
    'TRANSFORMS', 'METRICS', 'EVALUATOR', 'LOOPS', 'HOOKS', 'RUNNERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'VISUALIZERS', 'VISBACKENDS'
]


class DynamicnetRegistry(Registry):
    """A :class:`mmengine.registry.Registry` with optional, lazily imported locations.

    Args:
        optional_locations: Maps a module path to the upstream package it needs, e.g.
            ``{'dynamicnet.models.det3d': 'mmdet3d'}``. On the first lookup that misses, each
            module whose package is installed is imported, then the lookup is retried.
        *args, **kwargs: As for :class:`mmengine.registry.Registry`.
    """

    def __init__(self, *args, optional_locations: Optional[Dict[str, str]] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._optional_locations = dict(optional_locations or {})
        self._optional_imported = False

    def _import_optional_locations(self) -> bool:
        """Import the optional modules whose upstream package is installed.

        Returns:
            Whether anything was imported by this call.
        """
        if self._optional_imported:
            return False
        self._optional_imported = True
        for module, package in self._optional_locations.items():
            if importlib.util.find_spec(package) is None:
                continue
            importlib.import_module(module)
        return bool(self._optional_locations)

    def get(self, key: str):
        obj = super().get(key)
        if obj is None and self._import_optional_locations():
            obj = super().get(key)
        return obj

    def optional_modules(self) -> List[str]:
        """Names of the optional modules, imported or not (for error messages and docs)."""
        return list(self._optional_locations)


MODELS = DynamicnetRegistry(
    'model',
    parent=MMENGINE_MODELS,
    locations=['dynamicnet.models'],
    optional_locations={
        'dynamicnet.models.seg': 'mmseg',
        'dynamicnet.models.det3d': 'mmdet3d',
    })
TASK_UTILS = DynamicnetRegistry(
    'task util', parent=MMENGINE_TASK_UTILS, locations=['dynamicnet.models'])
MODEL_WRAPPERS = DynamicnetRegistry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, locations=['dynamicnet.models'])
DATASETS = DynamicnetRegistry(
    'dataset',
    parent=MMENGINE_DATASETS,
    locations=['dynamicnet.datasets'],
    optional_locations={'dynamicnet.datasets.det3d': 'mmdet3d'})
DATA_SAMPLERS = DynamicnetRegistry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, locations=['dynamicnet.datasets'])
TRANSFORMS = DynamicnetRegistry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    locations=['dynamicnet.datasets.transforms'],
    optional_locations={'dynamicnet.datasets.det3d': 'mmdet3d'})
METRICS = DynamicnetRegistry(
    'metric',
    parent=MMENGINE_METRICS,
    locations=['dynamicnet.evaluation'],
    optional_locations={'dynamicnet.evaluation.det3d': 'mmdet3d'})
EVALUATOR = DynamicnetRegistry(
    'evaluator', parent=MMENGINE_EVALUATOR, locations=['dynamicnet.evaluation'])
LOOPS = DynamicnetRegistry('loop', parent=MMENGINE_LOOPS, locations=['dynamicnet.engine'])
HOOKS = DynamicnetRegistry('hook', parent=MMENGINE_HOOKS, locations=['dynamicnet.engine'])
RUNNERS = DynamicnetRegistry('runner', parent=MMENGINE_RUNNERS, locations=['dynamicnet.engine'])
OPTIM_WRAPPERS = DynamicnetRegistry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, locations=['dynamicnet.engine'])
OPTIM_WRAPPER_CONSTRUCTORS = DynamicnetRegistry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    locations=['dynamicnet.engine'])
PARAM_SCHEDULERS = DynamicnetRegistry(
    'parameter scheduler', parent=MMENGINE_PARAM_SCHEDULERS, locations=['dynamicnet.engine'])
VISUALIZERS = DynamicnetRegistry(
    'visualizer', parent=MMENGINE_VISUALIZERS, locations=['dynamicnet.visualization'])
VISBACKENDS = DynamicnetRegistry(
    'vis_backend', parent=MMENGINE_VISBACKENDS, locations=['dynamicnet.visualization'])
