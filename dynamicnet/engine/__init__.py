# Copyright (c) dynamicnet contributors. All rights reserved.
from . import hooks, loops, runners  # noqa: F401
