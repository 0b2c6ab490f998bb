# Copyright (c) dynamicnet contributors. All rights reserved.
"""dynamicnet: a toolbox of dynamic and efficient deep networks on OpenMMLab 2.x.

Importing the package makes the registry tree known to mmengine and applies the documented
compatibility adjustments of :mod:`dynamicnet.utils.compat`; components register lazily through
the registries' ``locations``.
"""
from .utils.compat import apply_compat_patches
from .version import __version__, version_info

apply_compat_patches()

__all__ = ['__version__', 'version_info']
