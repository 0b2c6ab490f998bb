# Copyright (c) dynamicnet contributors. All rights reserved.
"""DDP wrapper for InfoPro models (``../shared/specs/infopro.md`` §7.5, pitfall 5).

mmengine's :class:`MMDistributedDataParallel` runs the model through DDP's forward and one
``update_params``; InfoPro back-propagates each local loss inside the forward, several times per
step. This wrapper hands the step to the model's own ``train_step``, which all-reduces the
accumulated gradients once before the optimizer step. DDP's reducer is bypassed (its hooks only
act after a DDP forward), so the buffer broadcast that DDP's forward would do is done here.
"""
from typing import Dict, Union

import torch
from mmengine import dist
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapper

from dynamicnet.registry import MODEL_WRAPPERS

__all__ = ['InfoProDistributedDataParallel']


@MODEL_WRAPPERS.register_module()
class InfoProDistributedDataParallel(MMDistributedDataParallel):
    """``model_wrapper_cfg=dict(type='dynamicnet.InfoProDistributedDataParallel')``.

    Validation and test steps are mmengine's.
    """

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        if self.broadcast_buffers:
            for buffer in self.module.buffers():
                dist.broadcast(buffer, src=0)
        return self.module.train_step(data, optim_wrapper)
