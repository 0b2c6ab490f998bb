# Copyright (c) dynamicnet contributors. All rights reserved.
# mmdet3d 1.4's own VoteNet on SUN RGB-D, unchanged, plus the CPU switch (see the ScanNet config).
_base_ = ['mmdet3d::votenet/votenet_8xb16_sunrgbd-3d.py']

custom_imports = dict(imports=['dynamicnet.ops.mmdet3d_dispatch'], allow_failed_imports=False)
