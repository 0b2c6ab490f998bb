# Copyright (c) dynamicnet contributors. All rights reserved.
"""Point-cloud ops with one device-dispatching interface (mmcv CUDA kernels / PyTorch on CPU).

:mod:`dynamicnet.ops.mmdet3d_dispatch` (imported explicitly, e.g. through a config's
``custom_imports``) makes unmodified mmdet3d modules use these ops.
"""
from .point_ops import (ball_query, furthest_point_sample, furthest_point_sample_with_dist,
                        gather_points, grouping_operation,
                        grouping_operation_channels_last, mmcv_cuda_ops_available,
                        points_in_boxes_all, points_in_boxes_part, three_interpolate, three_nn,
                        uses_mmcv_kernel)
from .torch_point_ops import (CHUNK_ELEMENTS, ball_query_torch, furthest_point_sample_torch,
                              furthest_point_sample_with_dist_torch, gather_points_torch,
                              grouping_operation_torch, points_in_boxes_all_torch,
                              points_in_boxes_part_torch, three_interpolate_torch, three_nn_torch)

__all__ = [
    'ball_query', 'furthest_point_sample', 'furthest_point_sample_with_dist', 'gather_points',
    'grouping_operation', 'grouping_operation_channels_last', 'mmcv_cuda_ops_available',
    'points_in_boxes_all', 'points_in_boxes_part', 'three_interpolate', 'three_nn',
    'uses_mmcv_kernel', 'CHUNK_ELEMENTS',
    'ball_query_torch', 'furthest_point_sample_torch', 'furthest_point_sample_with_dist_torch',
    'gather_points_torch', 'grouping_operation_torch', 'points_in_boxes_all_torch',
    'points_in_boxes_part_torch', 'three_interpolate_torch', 'three_nn_torch'
]
