# Copyright (c) dynamicnet contributors. All rights reserved.
from .supcon_loss import SupConLoss, supcon_loss

__all__ = ['SupConLoss', 'supcon_loss']
