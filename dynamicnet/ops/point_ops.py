# Copyright (c) dynamicnet contributors. All rights reserved.
"""Device-dispatching point-cloud ops: mmcv's CUDA kernels for CUDA tensors, PyTorch otherwise.

Each function has the signature of its ``mmcv.ops`` namesake, so it can replace that name in
upstream modules (see :mod:`dynamicnet.ops.mmdet3d_dispatch`). CUDA tensors go to mmcv's kernels
when the installed ``mmcv._ext`` was compiled with CUDA; every other tensor (CPU, or CUDA with a
CPU-only mmcv build, or no mmcv ops at all) goes to :mod:`dynamicnet.ops.torch_point_ops`, which
reproduces the kernels' results. mmcv 2.1.0 has no CPU kernels for any of these ops
(``../shared/specs/openmmlab.md`` §5).

mmcv's "stacked" variants (``xyz_batch_cnt``/``features_batch_cnt`` arguments) are forwarded to
mmcv on CUDA and rejected elsewhere: no mmdet3d model dynamicnet supports uses them.
"""
import functools
import importlib
from typing import Callable, Optional, Tuple

import torch
from torch import Tensor

from . import torch_point_ops as _torch_ops

__all__ = [
    'mmcv_cuda_ops_available', 'uses_mmcv_kernel', 'furthest_point_sample',
    'furthest_point_sample_with_dist', 'ball_query', 'grouping_operation',
    'grouping_operation_channels_last', 'gather_points', 'three_nn', 'three_interpolate',
    'points_in_boxes_all', 'points_in_boxes_part'
]


@functools.lru_cache(maxsize=None)
def mmcv_cuda_ops_available() -> bool:
    """Whether ``mmcv._ext`` is importable and was compiled with CUDA kernels."""
    try:
        from mmcv.ops import get_compiling_cuda_version
        return get_compiling_cuda_version() not in ('not available', '')
    except (ImportError, OSError, AttributeError, RuntimeError):
        return False


def uses_mmcv_kernel(tensor: Tensor) -> bool:
    """Whether an op on ``tensor`` runs mmcv's CUDA kernel (else the PyTorch implementation)."""
    return tensor.is_cuda and mmcv_cuda_ops_available()


@functools.lru_cache(maxsize=None)
def _mmcv_op(module: str, name: str) -> Callable:
    """mmcv's own op, looked up in its defining module (never in a namespace we rebind)."""
    return getattr(importlib.import_module(f'mmcv.ops.{module}'), name)


def furthest_point_sample(points_xyz: Tensor, num_points: int) -> Tensor:
    """D-FPS indices (B, num_points), int32; see :func:`~.furthest_point_sample_torch`."""
    if uses_mmcv_kernel(points_xyz):
        return _mmcv_op('furthest_point_sample', 'furthest_point_sample')(
            points_xyz.contiguous(), num_points)
    return _torch_ops.furthest_point_sample_torch(points_xyz, num_points)


def furthest_point_sample_with_dist(points_dist: Tensor, num_points: int) -> Tensor:
    """FPS indices from a (B, N, N) distance matrix; see :func:`~.furthest_point_sample_torch`."""
    if uses_mmcv_kernel(points_dist):
        return _mmcv_op('furthest_point_sample', 'furthest_point_sample_with_dist')(
            points_dist.contiguous(), num_points)
    return _torch_ops.furthest_point_sample_with_dist_torch(points_dist, num_points)


def ball_query(min_radius: float,
               max_radius: float,
               sample_num: int,
               xyz: Tensor,
               center_xyz: Tensor,
               xyz_batch_cnt: Optional[Tensor] = None,
               center_xyz_batch_cnt: Optional[Tensor] = None) -> Tensor:
    """Ball-query indices (B, M, sample_num), int32; see :func:`~.ball_query_torch`."""
    if uses_mmcv_kernel(xyz):
        return _mmcv_op('ball_query', 'ball_query')(min_radius, max_radius, sample_num,
                                                    xyz.contiguous(), center_xyz.contiguous(),
                                                    xyz_batch_cnt, center_xyz_batch_cnt)
    if xyz_batch_cnt is not None or center_xyz_batch_cnt is not None:
        raise NotImplementedError('the stacked ball query (xyz_batch_cnt) has no CPU version')
    return _torch_ops.ball_query_torch(min_radius, max_radius, sample_num, xyz, center_xyz)


def grouping_operation(features: Tensor,
                       indices: Tensor,
                       features_batch_cnt: Optional[Tensor] = None,
                       indices_batch_cnt: Optional[Tensor] = None) -> Tensor:
    """Grouped features (B, C, M, K); see :func:`~.grouping_operation_torch`."""
    if uses_mmcv_kernel(features):
        return _mmcv_op('group_points', 'grouping_operation')(features, indices,
                                                              features_batch_cnt,
                                                              indices_batch_cnt)
    if features_batch_cnt is not None or indices_batch_cnt is not None:
        raise NotImplementedError('the stacked grouping (features_batch_cnt) has no CPU version')
    return _torch_ops.grouping_operation_torch(features, indices)


def grouping_operation_channels_last(features: Tensor, indices: Tensor) -> Tensor:
    """Grouped features (B, M, K, C) from channel-last features (B, N, C), on every device.

    The same values as :func:`grouping_operation` transposed to channel-last. In this layout every
    neighbour is one contiguous row, so a single ``index_select`` is the whole op on CPU and CUDA
    alike; transformer models consume neighbourhoods as (sequences, tokens, channels) and would
    otherwise pay for a (B, C, M, K) -> (B, M, K, C) copy of the largest tensor they touch.

    Args:
        features: (B, N, C) features.
        indices: (B, M, K) indices into N (int or long).

    Returns:
        (B, M, K, C) grouped features (differentiable w.r.t. ``features``).
    """
    batch, num, channels = features.shape
    offsets = torch.arange(batch, device=indices.device).view(batch, 1, 1) * num
    rows = (indices.long() + offsets).view(-1)
    return features.reshape(batch * num, channels).index_select(0, rows).view(
        *indices.shape, channels)


def gather_points(features: Tensor, indices: Tensor) -> Tensor:
    """Gathered features (B, C, M); see :func:`~.gather_points_torch`."""
    if uses_mmcv_kernel(features):
        return _mmcv_op('gather_points', 'gather_points')(features.contiguous(),
                                                          indices.contiguous())
    return _torch_ops.gather_points_torch(features, indices)


def three_nn(target: Tensor, source: Tensor) -> Tuple[Tensor, Tensor]:
    """Distances and indices (B, N, 3) of the 3 nearest sources; see :func:`~.three_nn_torch`."""
    if uses_mmcv_kernel(target):
        return _mmcv_op('three_nn', 'three_nn')(target, source)
    return _torch_ops.three_nn_torch(target, source)


def three_interpolate(features: Tensor, indices: Tensor, weight: Tensor) -> Tensor:
    """Interpolated features (B, C, N); see :func:`~.three_interpolate_torch`."""
    if uses_mmcv_kernel(features):
        return _mmcv_op('three_interpolate', 'three_interpolate')(features.contiguous(),
                                                                  indices.contiguous(),
                                                                  weight.contiguous())
    return _torch_ops.three_interpolate_torch(features, indices, weight)


def points_in_boxes_all(points: Tensor, boxes: Tensor) -> Tensor:
    """(B, M, T) int32 membership; see :func:`~.points_in_boxes_all_torch`."""
    if uses_mmcv_kernel(points):
        return _mmcv_op('points_in_boxes', 'points_in_boxes_all')(points, boxes)
    return _torch_ops.points_in_boxes_all_torch(points, boxes)


def points_in_boxes_part(points: Tensor, boxes: Tensor) -> Tensor:
    """(B, M) int32 first containing box or -1; see :func:`~.points_in_boxes_part_torch`."""
    if uses_mmcv_kernel(points):
        return _mmcv_op('points_in_boxes', 'points_in_boxes_part')(points, boxes)
    return _torch_ops.points_in_boxes_part_torch(points, boxes)
