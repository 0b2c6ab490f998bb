# Copyright (c) dynamicnet contributors. All rights reserved.
from .caam_cam_distiller import CAAMCAMDistiller
from .dvt import DVT
from .infopro import InfoProClassifier
from .gfnet import GFNet, GlanceFocusEncoder
from .multi_exit import EarlyExitClassifier, MultiExitClassifier

__all__ = [
    'CAAMCAMDistiller', 'InfoProClassifier', 'MultiExitClassifier', 'EarlyExitClassifier', 'GFNet',
    'GlanceFocusEncoder', 'DVT'
]
