# Copyright (c) dynamicnet contributors. All rights reserved.
"""3D datasets and transforms: they need mmdet3d and are imported on first lookup miss."""
