# Copyright (c) dynamicnet contributors. All rights reserved.
from .gated_pooling import GatedAveragePooling

__all__ = ['GatedAveragePooling']
