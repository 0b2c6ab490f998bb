# Copyright (c) dynamicnet contributors. All rights reserved.
"""3D detection components: they need mmdet3d and are imported on first lookup miss."""
