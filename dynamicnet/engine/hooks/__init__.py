# Copyright (c) dynamicnet contributors. All rights reserved.
from .condensation_hook import CondensationHook

__all__ = ['CondensationHook']
