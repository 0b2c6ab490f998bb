# Copyright (c) dynamicnet contributors. All rights reserved.
from .cifar_resnet import CIFARResNet

__all__ = ['CIFARResNet']
