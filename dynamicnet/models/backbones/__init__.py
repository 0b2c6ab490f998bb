# Copyright (c) dynamicnet contributors. All rights reserved.
from .cifar_resnet import CIFARResNet
from .condensenetv2 import CondenseNetV2

__all__ = ['CIFARResNet', 'CondenseNetV2']
