# Copyright (c) dynamicnet contributors. All rights reserved.
# mmdet3d 1.4's own VoteNet (PointNet2SASSG + VoteHead) on ScanNet, unchanged, plus the one-line
# switch that makes it run on CPU: mmcv's point ops have CUDA kernels only, and the switch rebinds
# the names mmdet3d imported to dynamicnet.ops (mmcv's kernels for CUDA tensors, PyTorch on CPU).
_base_ = ['mmdet3d::votenet/votenet_8xb8_scannet-3d.py']

custom_imports = dict(imports=['dynamicnet.ops.mmdet3d_dispatch'], allow_failed_imports=False)
