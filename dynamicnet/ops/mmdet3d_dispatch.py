# Copyright (c) dynamicnet contributors. All rights reserved.
"""The one-line switch that lets unmodified mmdet3d point models run on CPU.

Add to a config::

    custom_imports = dict(imports=['dynamicnet.ops.mmdet3d_dispatch'], allow_failed_imports=False)

mmdet3d 1.4.0 imports mmcv's point ops by name (``from mmcv.ops import furthest_point_sample``),
and mmcv 2.1.0 has only CUDA kernels for them, so VoteNet, PointNet++ and friends fail on a CPU
(``openmmlab.md`` §5). Importing this module rebinds those names, in the upstream modules that
hold them, to :mod:`dynamicnet.ops.point_ops`, whose functions call the very same mmcv kernels
for CUDA tensors and the PyTorch implementations otherwise. Installed files are not touched; the
rebinding lives in the Python process and is idempotent. :data:`REBOUND` lists every
``(module, name)`` pair it changes.

The mmcv helper modules whose classes look the ops up at call time (``PointsSampler`` in
``mmcv.ops.points_sampler``, ``QueryAndGroup`` in ``mmcv.ops.group_points``) are rebound too, and
so is the ``mmcv.ops`` package namespace, for modules imported later.
"""
import importlib
from typing import Any, Dict, List, Tuple

from . import point_ops

__all__ = ['TARGETS', 'REBOUND', 'enable', 'is_enabled']

_OPS = ('furthest_point_sample', 'furthest_point_sample_with_dist', 'ball_query',
        'grouping_operation', 'gather_points', 'three_nn', 'three_interpolate',
        'points_in_boxes_all', 'points_in_boxes_part')

#: Module -> names of mmcv point ops it holds (imported by name or looked up at call time).
TARGETS: Dict[str, Tuple[str, ...]] = {
    'mmcv.ops': _OPS,
    'mmcv.ops.points_sampler': ('furthest_point_sample', 'furthest_point_sample_with_dist'),
    'mmcv.ops.group_points': ('ball_query', 'grouping_operation'),
    'mmdet3d.structures.bbox_3d.base_box3d': ('points_in_boxes_all', 'points_in_boxes_part'),
    'mmdet3d.models.layers.pointnet_modules.point_sa_module': ('gather_points', ),
    'mmdet3d.models.layers.pointnet_modules.point_fp_module': ('three_nn', 'three_interpolate'),
    'mmdet3d.models.layers.dgcnn_modules.dgcnn_gf_module': ('grouping_operation', ),
    'mmdet3d.models.dense_heads.vote_head': ('furthest_point_sample', ),
    'mmdet3d.models.dense_heads.groupfree3d_head': ('gather_points', ),
    'mmdet3d.models.roi_heads.mask_heads.primitive_head': ('furthest_point_sample', ),
    'mmdet3d.models.middle_encoders.sparse_encoder': ('points_in_boxes_all', 'three_nn',
                                                      'three_interpolate'),
    'mmdet3d.models.middle_encoders.voxel_set_abstraction': ('furthest_point_sample', ),
}

#: ``(module, name)`` pairs rebound so far.
REBOUND: List[Tuple[str, str]] = []


def enable(impl: Any = point_ops) -> List[Tuple[str, str]]:
    """Rebind the mmcv point-op names in :data:`TARGETS` to dynamicnet's dispatching ops.

    Args:
        impl: Where the replacements are looked up by name (default
            :mod:`dynamicnet.ops.point_ops`); the benchmark passes reference implementations.

    Returns:
        The ``(module, name)`` pairs rebound (all of them, also on repeated calls).

    Raises:
        ImportError: mmcv or mmdet3d is not installed.
        AttributeError: a target module no longer holds a listed name (an upstream version this
            switch was not written for).
    """
    for module_name, names in TARGETS.items():
        module = importlib.import_module(module_name)
        for name in names:
            if not hasattr(module, name):
                raise AttributeError(
                    f'{module_name} has no attribute {name!r}: dynamicnet.ops.mmdet3d_dispatch '
                    'was written for mmcv 2.1.0 / mmdet3d 1.4.0')
            setattr(module, name, getattr(impl, name))
            if (module_name, name) not in REBOUND:
                REBOUND.append((module_name, name))
    return list(REBOUND)


def is_enabled() -> bool:
    """Whether every name in :data:`TARGETS` currently points to dynamicnet's op."""
    for module_name, names in TARGETS.items():
        module = importlib.import_module(module_name)
        if any(getattr(module, name, None) is not getattr(point_ops, name) for name in names):
            return False
    return True


enable()
