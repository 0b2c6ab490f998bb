# Copyright (c) dynamicnet contributors. All rights reserved.
from .infopro import InfoProClassifier

__all__ = ['InfoProClassifier']
