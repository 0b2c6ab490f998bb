# Copyright (c) dynamicnet contributors. All rights reserved.
"""Segmentation components: they need mmsegmentation and are imported on first lookup miss."""
