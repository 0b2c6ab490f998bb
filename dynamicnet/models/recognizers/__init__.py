# Copyright (c) dynamicnet contributors. All rights reserved.
from .adafocus import AdaFocus, AdaFocusGRUHead  # noqa: F401
from .adafocus_tsm import AdaFocusTSM  # noqa: F401
from .adafocus_v2 import AdaFocusV2  # noqa: F401

__all__ = ['AdaFocus', 'AdaFocusGRUHead', 'AdaFocusTSM', 'AdaFocusV2']
