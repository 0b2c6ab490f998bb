# Copyright (c) dynamicnet contributors. All rights reserved.
from .condensation_hook import CondensationHook
from .exit_costs_hook import ExitCostsHook

__all__ = ['CondensationHook', 'ExitCostsHook']
