# Copyright (c) dynamicnet contributors. All rights reserved.
"""InfoPro local learning, shared by the classification and segmentation wrappers.

Wang et al., "Revisiting Locally Supervised Learning: an Alternative to End-to-end Training",
ICLR 2021 (``../shared/specs/infopro.md``). The backbone is cut into ``K`` gradient-isolated
local modules (:mod:`dynamicnet.models.utils.infopro_split`). Each of the first ``K - 1`` modules
gets a decoder and an auxiliary task head and the local loss

    L_k = λ1_k · BCE(sigmoid(decoder_k(h_k)), x_raw) + λ2_k · Task(aux_k(h_k), y),

where ``x_raw`` is the un-normalised image in [0, 1]; the last module uses the task loss.

Training step (:meth:`InfoProMixin.train_step`, spec §4): for each module in network order the
forward runs, its loss is back-propagated **at once** through the optimizer wrapper (so AMP loss
scaling applies), and the output is detached before the next module runs; the graph of a module
is therefore freed before the next one is built, which is what bounds peak memory. After the last
module one ``optim_wrapper.step()`` and ``zero_grad()`` follow. ``K = 1`` is end-to-end training.

Options:

- ``checkpoint_modules``: also checkpoint the activations inside each module (per residual block,
  ``torch.utils.checkpoint`` non-reentrant); BN running statistics are restored around the
  recomputation so they are updated once per step, as without checkpointing.
- ``async_cfg=dict(staleness=s)``: dynamicnet's reconstruction of the asynchronous variant, for
  which no official code exists (spec §6, [unconfirmed] protocol). Every module has its own
  optimizer (``InfoProOptimWrapperConstructor`` builds an ``OptimWrapperDict`` with keys
  ``module0`` .. ``module{K-1}``) and steps right after its own backward; module ``k`` consumes
  the detached output of module ``k - 1`` produced ``s`` iterations earlier (a FIFO per module,
  holding the features, the raw images and the labels of that batch). ``s = 0`` is equivalent
  to the synchronous step (apart from gradient clipping, which becomes per-module). Modules run
  one after another in one process: this simulates the pipeline's staleness, it does not place
  modules on different devices.

Distributed training: the local backwards happen inside ``train_step``, outside DDP's forward,
so DDP's reducer never fires; gradients are all-reduced (mean) once per step, right before the
optimizer step, by :meth:`InfoProMixin._sync_gradients`. Use the model wrapper
``dynamicnet.InfoProDistributedDataParallel`` (``model_wrapper_cfg``), whose ``train_step`` calls
this one and which broadcasts buffers like DDP's forward. Under a plain DDP wrapper the model's
``loss()`` still returns gradient-isolated losses (detached module inputs), so gradients are the
same, but without the memory saving.
"""
from abc import ABCMeta, abstractmethod
import contextlib
import functools
from collections import OrderedDict, deque
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine import dist
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm
from torch.utils.checkpoint import checkpoint

from dynamicnet.registry import MODELS
from .infopro_split import (BackboneUnit, SplitSpec, infopro_loss_weights, partition_units,
                            resnet_units, resolve_split, unit_out_channels)

__all__ = ['InfoProMixin', 'restore_bn_stats']

Losses = Dict[str, torch.Tensor]


@contextlib.contextmanager
def restore_bn_stats(modules: Iterable[nn.Module]):
    """Restore the running statistics of every BN in ``modules`` on exit.

    Used as the recompute context of activation checkpointing: the recomputed forward uses the
    same batch statistics, but must not apply the momentum update a second time.
    """
    norms = [m for m in modules if isinstance(m, _BatchNorm) and m.track_running_stats]
    saved = [(m.running_mean.clone(), m.running_var.clone(), m.num_batches_tracked.clone())
             for m in norms]
    try:
        yield
    finally:
        with torch.no_grad():
            for m, (mean, var, count) in zip(norms, saved):
                m.running_mean.copy_(mean)
                m.running_var.copy_(var)
                m.num_batches_tracked.copy_(count)


def _checkpoint_contexts(unit: BackboneUnit):
    return contextlib.nullcontext(), restore_bn_stats(list(unit.modules()))


class InfoProMixin(metaclass=ABCMeta):
    """Local-learning machinery for a model with ``self.backbone`` and a data preprocessor.

    Subclasses call :meth:`_init_infopro` after building the upstream model and implement
    :meth:`_final_losses`, :meth:`_local_task_losses` and :meth:`_final_modules`.
    """

    def _init_infopro(self,
                      split: Union[str, SplitSpec, None],
                      loss_weights: Optional[dict],
                      decoder: Optional[dict],
                      local_head: Optional[dict],
                      checkpoint_modules: bool = False,
                      async_cfg: Optional[dict] = None) -> None:
        """Build the split and the auxiliary networks.

        Args:
            split: Preset name of ``INFOPRO_SPLITS`` or ``[[stage, block], ...]``; ``None`` or
                ``[]`` is ``K = 1`` (end-to-end).
            loss_weights: ``dict(ixx_1=, ixy_1=, ixx_2=, ixy_2=)``, see
                :func:`infopro_loss_weights`.
            decoder: Config of the reconstruction decoder; ``in_channels`` is filled in per
                module. Required when ``K > 1``.
            local_head: Config of the auxiliary task head; ``in_channels`` is filled in.
            checkpoint_modules: Checkpoint activations inside each module.
            async_cfg: ``dict(staleness=s)`` for the asynchronous variant, else ``None``.
        """
        self.infopro_split = resolve_split(split)
        modules = self._local_modules()
        self.num_modules = len(modules)
        self.checkpoint_modules = checkpoint_modules
        self.async_cfg = dict(async_cfg) if async_cfg is not None else None
        if self.async_cfg is not None and self.async_cfg.get('staleness', 0) < 0:
            raise ValueError('async_cfg.staleness must be >= 0')
        self._async_queues: Dict[int, deque] = {}
        self.decoders = nn.ModuleList()
        self.local_heads = nn.ModuleList()
        self.local_loss_weights: List[Tuple[float, float]] = []
        if self.num_modules == 1:
            return
        if decoder is None or local_head is None or loss_weights is None:
            raise ValueError('K > 1 needs `decoder`, `local_head` and `loss_weights`.')
        self.local_loss_weights = infopro_loss_weights(self.num_modules, **loss_weights)
        for units in modules[:-1]:
            channels = unit_out_channels(units[-1])
            self.decoders.append(MODELS.build(dict(decoder, in_channels=channels)))
            self.local_heads.append(self._build_local_head(local_head, channels))

    def _build_local_head(self, cfg: dict, in_channels: int) -> nn.Module:
        return MODELS.build(dict(cfg, in_channels=in_channels))

    # -- interface for subclasses ------------------------------------------------------------

    @abstractmethod
    def _final_losses(self, feats: Tuple[torch.Tensor, ...], data_samples: list) -> Losses:
        """Losses of the last module given the backbone outputs (``out_indices`` order)."""

    @abstractmethod
    def _local_task_losses(self, k: int, h: torch.Tensor, data_samples: list) -> Losses:
        """Unweighted task losses of local module ``k`` on its output ``h``."""

    @abstractmethod
    def _final_modules(self) -> List[nn.Module]:
        """Modules after the backbone (neck, heads) that belong to the last local module."""

    # -- structure ---------------------------------------------------------------------------

    def _local_modules(self) -> List[List[BackboneUnit]]:
        # Recomputed on each call: cheap, and robust to modules being replaced after __init__
        # (e.g. BN converted to SyncBN by the runner).
        return partition_units(resnet_units(self.backbone), self.infopro_split)

    def local_module_view(self, k: int) -> nn.ModuleList:
        """Every trainable part of local module ``k`` (backbone units, auxiliary nets, heads).

        The modules stay owned by the model; the list is a view for building per-module
        optimizers (asynchronous variant) and for tests.
        """
        parts: List[nn.Module] = [
            layer for unit in self._local_modules()[k] for layer in unit.layers
        ]
        if k < self.num_modules - 1:
            parts += [self.decoders[k], self.local_heads[k]]
        else:
            parts += [m for m in self._final_modules() if m is not None]
        return nn.ModuleList(parts)

    # -- losses ------------------------------------------------------------------------------

    def _raw_images(self, inputs: torch.Tensor) -> torch.Tensor:
        """Un-normalised images in [0, 1]: ``(x · std + mean) / 255``."""
        pre = self.data_preprocessor
        if getattr(pre, '_enable_normalize', False):
            inputs = inputs * pre.std + pre.mean
        return (inputs / 255.).clamp(0., 1.)

    def _local_losses(self, k: int, h: torch.Tensor, inputs: torch.Tensor,
                      data_samples: list) -> Losses:
        """Weighted InfoPro loss of local module ``k``; terms with weight 0 are skipped."""
        recon_weight, task_weight = self.local_loss_weights[k]
        losses: Losses = OrderedDict()
        if recon_weight:
            logits = self.decoders[k](h, size=inputs.shape[-2:])
            target = self._raw_images(inputs).to(torch.float32)
            losses[f'local{k}.loss_recon'] = recon_weight * F.binary_cross_entropy_with_logits(
                logits.float(), target)
        if task_weight:
            for name, value in self._local_task_losses(k, h, data_samples).items():
                if 'loss' in name:
                    value = task_weight * value
                losses[f'local{k}.{name}'] = value
        return losses

    # -- forward -----------------------------------------------------------------------------

    def _run_unit(self, unit: BackboneUnit, h: torch.Tensor) -> torch.Tensor:
        if self.checkpoint_modules and self.training and torch.is_grad_enabled():
            return checkpoint(
                unit, h, use_reentrant=False,
                context_fn=functools.partial(_checkpoint_contexts, unit))
        return unit(h)

    def _forward_module(self, units: Sequence[BackboneUnit], h: torch.Tensor,
                        outs: List[torch.Tensor]) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """Run one local module; append the stage outputs named by ``backbone.out_indices``."""
        out_indices = self.backbone.out_indices
        for unit in units:
            h = self._run_unit(unit, h)
            if unit.stage > 0 and unit.stage_end and unit.stage - 1 in out_indices:
                outs = outs + [h]
        return h, outs

    def _module_losses(self, k: int, h: torch.Tensor, outs: List[torch.Tensor],
                       inputs: torch.Tensor, data_samples: list) -> Losses:
        if k == self.num_modules - 1:
            return self._final_losses(tuple(outs), data_samples)
        return self._local_losses(k, h, inputs, data_samples)

    def _isolated_losses(self, inputs: torch.Tensor, data_samples: list) -> Losses:
        """All losses in one graph, gradient-isolated by detaching every module's input.

        Their sum has the same gradients as :meth:`train_step`'s sequence of local backwards
        (spec invariant 3), but keeps every module's graph alive: no memory saving.
        """
        h, outs, losses = inputs, [], OrderedDict()
        for k, units in enumerate(self._local_modules()):
            h, outs = self._forward_module(units, h, outs)
            losses.update(self._module_losses(k, h, outs, inputs, data_samples))
            h, outs = h.detach(), [o.detach() for o in outs]
        return losses

    # -- training step -----------------------------------------------------------------------

    def train_step(self, data: Union[dict, tuple, list],
                   optim_wrapper: OptimWrapper) -> Dict[str, torch.Tensor]:
        """InfoPro's training step (module docstring); returns the detached losses for logging."""
        if self.async_cfg is not None:
            return self._async_train_step(data, optim_wrapper)
        if isinstance(optim_wrapper, OptimWrapperDict):
            raise TypeError('An OptimWrapperDict is only supported with `async_cfg`.')
        if optim_wrapper._accumulative_counts != 1:
            # Each local backward would advance the wrapper's accumulation counter.
            raise ValueError('InfoPro supports only accumulative_counts=1.')
        count = optim_wrapper._inner_count
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor(data, True)
        inputs, data_samples = data['inputs'], data['data_samples']
        h, outs, logged = inputs, [], OrderedDict()
        for k, units in enumerate(self._local_modules()):
            with optim_wrapper.optim_context(self):
                h, outs = self._forward_module(units, h, outs)
                losses = self._module_losses(k, h, outs, inputs, data_samples)
            loss = self.parse_losses(losses)[0] if losses else None
            if loss is not None and loss.requires_grad:
                optim_wrapper.backward(loss)
            logged.update((name, value.detach()) for name, value in losses.items())
            # Gradient isolation; dropping the references also frees module k's graph.
            h, outs, loss, losses = h.detach(), [o.detach() for o in outs], None, None
        self._sync_gradients(self.parameters())
        optim_wrapper.step()
        optim_wrapper.zero_grad()
        # One iteration = one count, whatever K is (the counter drives accumulation and resume).
        optim_wrapper._inner_count = count + 1
        return self.parse_losses(logged)[1]

    def _async_train_step(self, data: Union[dict, tuple, list],
                          optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        if not isinstance(optim_wrapper, OptimWrapperDict):
            raise TypeError('The asynchronous variant needs one optimizer per module: use '
                            "optim_wrapper=dict(constructor='dynamicnet."
                            "InfoProOptimWrapperConstructor', ...).")
        staleness = self.async_cfg.get('staleness', 0)
        first = optim_wrapper['module0']
        with first.optim_context(self):
            data = self.data_preprocessor(data, True)
        item = dict(h=data['inputs'], outs=[], inputs=data['inputs'],
                    data_samples=data['data_samples'])
        logged = OrderedDict()
        for k, units in enumerate(self._local_modules()):
            if k > 0:
                queue = self._async_queues.setdefault(k, deque())
                if item is not None:
                    queue.append(item)
                item = queue.popleft() if len(queue) > staleness else None
                if item is None:
                    continue
            wrapper = optim_wrapper[f'module{k}']
            with wrapper.optim_context(self):
                h, outs = self._forward_module(units, item['h'], item['outs'])
                losses = self._module_losses(k, h, outs, item['inputs'], item['data_samples'])
            loss = self.parse_losses(losses)[0] if losses else None
            if loss is not None and loss.requires_grad:
                wrapper.backward(wrapper.scale_loss(loss))
            if wrapper.should_update():
                self._sync_gradients(self.local_module_view(k).parameters())
                wrapper.step()
                wrapper.zero_grad()
            logged.update((name, value.detach()) for name, value in losses.items())
            item = dict(h=h.detach(), outs=[o.detach() for o in outs], inputs=item['inputs'],
                        data_samples=item['data_samples'])
            loss = losses = None
        return self.parse_losses(logged)[1] if logged else OrderedDict()

    @staticmethod
    def _sync_gradients(params: Iterable[nn.Parameter]) -> None:
        """All-reduce (mean) the gradients once per step in distributed training."""
        if dist.get_world_size() == 1:
            return
        grads = [p.grad for p in params if p.grad is not None]
        dist.all_reduce_params(grads, coalesce=True, op='mean')
