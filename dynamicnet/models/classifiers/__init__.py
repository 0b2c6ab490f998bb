# Copyright (c) dynamicnet contributors. All rights reserved.
from .caam_cam_distiller import CAAMCAMDistiller
from .infopro import InfoProClassifier
from .multi_exit import EarlyExitClassifier, MultiExitClassifier

__all__ = ['CAAMCAMDistiller', 'InfoProClassifier', 'MultiExitClassifier', 'EarlyExitClassifier']
