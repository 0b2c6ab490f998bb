# Copyright (c) dynamicnet contributors. All rights reserved.
from .cifar_resnet import CIFARResNet
from .condensenetv2 import CondenseNetV2
from .dvt import DVTT2TViT, DVTVisionTransformer
from .msdnet import MSDNet, MSDNetExitHead
from .regnety import RegNetY
from .wide_resnet import WideResNet

__all__ = [
    'CIFARResNet', 'CondenseNetV2', 'MSDNet', 'MSDNetExitHead', 'RegNetY', 'WideResNet',
    'DVTT2TViT', 'DVTVisionTransformer'
]
