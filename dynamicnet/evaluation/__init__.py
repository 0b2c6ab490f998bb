# Copyright (c) dynamicnet contributors. All rights reserved.
from . import metrics  # noqa: F401
