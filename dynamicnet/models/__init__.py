# Copyright (c) dynamicnet contributors. All rights reserved.
"""Models. Components needing optional upstream libraries are imported lazily by the registry
(see :mod: and :mod:)."""
from . import backbones, classifiers, detectors, heads, losses, necks, recognizers, utils  # noqa: F401
