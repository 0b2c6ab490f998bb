# Copyright (c) dynamicnet contributors. All rights reserved.
from .complexity import count_macs, count_params

__all__ = ['count_macs', 'count_params']
