# Copyright (c) dynamicnet contributors. All rights reserved.
"""FOT: foreground extractors and the posture transformation generator (arXiv 2109.05719)."""
from .foreground_extractor import (BaseForegroundExtractor, GTMaskExtractor, IdentityExtractor,
                                   SaliencyExtractor, composite_foreground, masks_from_data_samples)
from .fot_unet import FOTUNet
from .posture_generator import POSTURE_SOURCES, PostureGenerator

__all__ = [
    'BaseForegroundExtractor', 'GTMaskExtractor', 'IdentityExtractor', 'SaliencyExtractor',
    'composite_foreground', 'masks_from_data_samples', 'FOTUNet', 'POSTURE_SOURCES',
    'PostureGenerator'
]
