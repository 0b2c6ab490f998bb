# Copyright (c) dynamicnet contributors. All rights reserved.
from . import hooks, loops, runners  # noqa: F401
from .infopro_optim import InfoProOptimWrapperConstructor

__all__ = ['InfoProOptimWrapperConstructor']
