# Copyright (c) dynamicnet contributors. All rights reserved.
"""The one multiply-accumulate (MAC) counter of dynamicnet.

All covered papers report "FLOPs" as MACs (``../shared/specs/dynamic-inference.md`` §5): one fused
multiply-add counts 1. The counter runs a real forward pass with hooks on leaf modules and applies
a named rule set:

* ``'macs'`` (default, for cross-method comparison): convolutions, linear layers and
  ``nn.MultiheadAttention``-free matmuls inside modules that implement ``count_macs``; every
  other op (BN, activations, pooling, element-wise) counts 0.
* ``'condensenet'``: the rules of CondenseNetV2's official ``utils.py`` counter (§4 of
  ``condensenetv2.md``): BN 0, ReLU/h-swish 1 per output element, Sigmoid 2 per element, pooling
  window-size ops per output element (adaptive pooling: one per input element), Linear in·out
  (bias not counted); convolutions whose module carries a ``mac_density`` attribute (learned group
  convolutions) count at that density, and so do their parameters in :func:`count_params`.
  Un-moduled tensor ops (SE rescaling, index gathers, scatter-adds, shuffles) count 0. On
  CondenseNetV2-A/B/C at 224x224 (backbone, global pooling, classifier head) this gives
  45.87M/2.04M, 146.47M/3.59M and 309.74M/6.18M, the spec anchors; the training-time model
  (density 1/C) and its converted form (real grouped convolutions) count the same.

A module may define ``count_macs(inputs, output) -> int`` to give its own analytic cost (raw matmuls
in attention, point ops, dynamic branches); its children are then not counted again.
"""
from typing import Callable, Dict, Iterable, Optional, Tuple

import torch
import torch.nn as nn

__all__ = ['count_macs', 'count_params', 'RULE_SETS']


def _conv_macs(module: nn.modules.conv._ConvNd, inputs, output) -> int:
    kernel = 1
    for k in module.kernel_size:
        kernel *= k
    per_output = kernel * module.in_channels // module.groups
    macs = output.numel() * per_output
    return int(macs * float(getattr(module, 'mac_density', 1.0)))


def _linear_macs(module: nn.Linear, inputs, output) -> int:
    return output.numel() * module.in_features


def _elementwise(cost: int) -> Callable:
    return lambda module, inputs, output: cost * output.numel()


def _pool_macs(module, inputs, output) -> int:
    kernel = module.kernel_size
    if isinstance(kernel, int):
        kernel = (kernel, ) * (output.dim() - 2)
    window = 1
    for k in kernel:
        window *= k
    return window * output.numel()


def _adaptive_pool_macs(module, inputs, output) -> int:
    return inputs[0].numel()


_MAC_RULES: Dict[type, Callable] = {
    nn.Conv1d: _conv_macs,
    nn.Conv2d: _conv_macs,
    nn.Conv3d: _conv_macs,
    nn.Linear: _linear_macs,
}

RULE_SETS: Dict[str, Dict[type, Callable]] = {
    'macs': _MAC_RULES,
    'condensenet': {
        **_MAC_RULES,
        nn.ReLU: _elementwise(1),
        nn.Hardswish: _elementwise(1),
        nn.Sigmoid: _elementwise(2),
        nn.AvgPool2d: _pool_macs,
        nn.MaxPool2d: _pool_macs,
        nn.AdaptiveAvgPool2d: _adaptive_pool_macs,
    },
}


def _first_tensor(x):
    if isinstance(x, torch.Tensor):
        return x
    if isinstance(x, (list, tuple)):
        for item in x:
            t = _first_tensor(item)
            if t is not None:
                return t
    if isinstance(x, dict):
        return _first_tensor(list(x.values()))
    return None


#: Nesting depth of running :func:`count_macs` calls. A model may count its own costs while being
#: counted (e.g. ``exit_costs()`` inside ``predict``); each call's hooks only count passes at
#: its own depth, so the outer count does not include the inner one.
_COUNT_DEPTH = [0]


@torch.no_grad()
def count_macs(model: nn.Module,
               inputs: Tuple,
               rules: str = 'macs',
               forward: Optional[Callable] = None,
               per_module: bool = False):
    """Count the multiply-accumulates of one forward pass.

    Args:
        model: The model; it is run once in its current train/eval mode.
        inputs: Positional arguments of the forward call.
        rules: A key of :data:`RULE_SETS`.
        forward: Callable used instead of ``model(*inputs)`` (e.g. ``model.extract_feat``).
        per_module: Also return a ``{qualified module name: MACs}`` dict.

    Returns:
        The total MACs (int), or ``(total, per_module_dict)``.
    """
    if rules not in RULE_SETS:
        raise KeyError(f'rules={rules!r} is not a MAC rule set; choose from {sorted(RULE_SETS)}')
    table = RULE_SETS[rules]
    counts: Dict[str, int] = {}
    handles = []
    analytic_roots = []

    def inside_analytic(name: str) -> bool:
        return any(name.startswith(root + '.') for root in analytic_roots)

    for name, module in model.named_modules():
        if hasattr(module, 'count_macs') and module is not model:
            analytic_roots.append(name)

    for name, module in model.named_modules():
        if inside_analytic(name):
            continue
        if name in analytic_roots or (module is model and hasattr(module, 'count_macs')):
            fn = lambda m, i, o: int(m.count_macs(i, o))  # noqa: E731
        else:
            fn = next((f for cls, f in table.items() if type(module) is cls), None)
            if fn is None:
                fn = next((f for cls, f in table.items() if isinstance(module, cls)), None)
        if fn is None:
            continue

        def hook(module, inp, out, name=name, fn=fn):
            if _COUNT_DEPTH[0] != depth:
                return
            out_tensor = _first_tensor(out)
            if out_tensor is None:
                return
            counts[name] = counts.get(name, 0) + fn(module, inp, out_tensor)

        handles.append(module.register_forward_hook(hook))
    _COUNT_DEPTH[0] += 1
    depth = _COUNT_DEPTH[0]
    try:
        if forward is None:
            model(*inputs)
        else:
            forward(*inputs)
    finally:
        _COUNT_DEPTH[0] -= 1
        for handle in handles:
            handle.remove()
    total = sum(counts.values())
    return (total, counts) if per_module else total


def count_params(modules: Iterable[nn.Module] | nn.Module, rules: str = 'macs') -> int:
    """Number of parameters (each shared tensor once).

    Args:
        modules: A module or several (parameters shared between them count once).
        rules: ``'macs'`` counts every parameter. ``'condensenet'`` counts the parameters of a
            module with a ``mac_density`` attribute (learned group convolutions) at that density,
            as the official CondenseNetV2 counter does: the parameters the converted network
            keeps.
    """
    if rules not in RULE_SETS:
        raise KeyError(f'rules={rules!r} is not a rule set; choose from {sorted(RULE_SETS)}')
    if isinstance(modules, nn.Module):
        modules = [modules]
    seen: Dict[int, float] = {}
    for module in modules:
        for owner in module.modules():
            density = float(getattr(owner, 'mac_density', 1.0)) if rules == 'condensenet' else 1.0
            for p in owner.parameters(recurse=False):
                seen[id(p)] = p.numel() * density
    return int(round(sum(seen.values())))
