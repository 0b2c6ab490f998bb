# Copyright (c) dynamicnet contributors. All rights reserved.
"""Models. Components needing optional upstream libraries are imported lazily by the registry
(see ``dynamicnet/models/seg.py`` and ``dynamicnet/models/det3d.py``)."""
from . import (backbones, classifiers, detectors, heads, losses, necks,  # noqa: F401
               recognizers, utils)
from . import fot  # noqa: F401
