# Copyright (c) dynamicnet contributors. All rights reserved.
from .infopro import InfoProClassifier
from .multi_exit import EarlyExitClassifier, MultiExitClassifier

__all__ = ['InfoProClassifier', 'MultiExitClassifier', 'EarlyExitClassifier']
