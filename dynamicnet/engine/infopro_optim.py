# Copyright (c) dynamicnet contributors. All rights reserved.
"""Per-module optimizers for InfoPro's asynchronous variant.

In the asynchronous variant (dynamicnet's reconstruction, ``../shared/specs/infopro.md`` §6) every
local module updates on its own schedule, so it needs its own optimizer: stepping one optimizer
over the whole network after module ``k``'s backward would also move the other modules through
momentum and weight decay.
"""
from typing import Optional

from mmengine.model import is_model_wrapper
from mmengine.optim import DefaultOptimWrapperConstructor, OptimWrapperDict
from torch import nn

from dynamicnet.registry import OPTIM_WRAPPER_CONSTRUCTORS

__all__ = ['InfoProOptimWrapperConstructor']


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class InfoProOptimWrapperConstructor:
    """Build an ``OptimWrapperDict`` with one optimizer wrapper per InfoPro local module.

    Keys are ``module0`` .. ``module{K-1}``; each wrapper is what
    :class:`mmengine.optim.DefaultOptimWrapperConstructor` builds from the same config for
    :meth:`InfoProMixin.local_module_view` of that module, so every trainable parameter belongs
    to exactly one optimizer. Parameter schedulers given as a list apply to each wrapper.

    Args:
        optim_wrapper_cfg: The ``optim_wrapper`` config (without ``constructor``).
        paramwise_cfg: As for ``DefaultOptimWrapperConstructor``.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None) -> None:
        self.optim_wrapper_cfg = optim_wrapper_cfg
        self.paramwise_cfg = paramwise_cfg

    def __call__(self, model: nn.Module) -> OptimWrapperDict:
        if is_model_wrapper(model):
            model = model.module
        if not hasattr(model, 'local_module_view'):
            raise TypeError(f'{type(model).__name__} is not an InfoPro model.')
        wrappers = {}
        for k in range(model.num_modules):
            constructor = DefaultOptimWrapperConstructor(
                dict(self.optim_wrapper_cfg), self.paramwise_cfg)
            wrappers[f'module{k}'] = constructor(model.local_module_view(k))
        return OptimWrapperDict(**wrappers)
