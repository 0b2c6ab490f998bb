# Copyright (c) dynamicnet contributors. All rights reserved.
from .fot import FOTTransform, LoadForegroundMask  # noqa: F401
