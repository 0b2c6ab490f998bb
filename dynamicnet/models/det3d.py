# Copyright (c) dynamicnet contributors. All rights reserved.
"""3D detection components: they need mmdet3d and are imported on first lookup miss.

Importing them enables :mod:`dynamicnet.ops.mmdet3d_dispatch`: they reuse mmdet3d layers
(``PointFPModule``, ``VoteHead``) that call mmcv's CUDA-only point ops by name.
"""
from .backbones.pointformer import Pointformer
from .necks.pointformer_neck import PointformerNeck

__all__ = ['Pointformer', 'PointformerNeck']
