# Copyright (c) dynamicnet contributors. All rights reserved.
"""Checkpoint handling of CondenseNetV2 (spec ``../shared/specs/condensenetv2.md`` §6, §11 #4).

* :func:`official_to_dynamicnet` maps a state dict of the official code (``jianghaojun/
  CondenseNetV2``; training-time layout with ``_mask`` buffers or converted layout with ``index``
  buffers, ``../shared/specs/official-checkpoints/``) onto dynamicnet's ``ImageClassifier`` with a
  :class:`~dynamicnet.models.backbones.CondenseNetV2` backbone and a
  :class:`~dynamicnet.models.heads.CondenseNetV2ClsHead`.
* :func:`load_strict` loads a state dict and turns a layout mismatch into a readable error.

The command-line tools are ``tools/model_converters/condensenetv2_official_to_dynamicnet.py`` and
``tools/model_converters/condensenetv2_convert.py``.
"""
import re
from typing import Dict, List, Tuple

import torch.nn as nn
from torch import Tensor

from dynamicnet.models.backbones.condensenetv2 import CondenseNetV2

__all__ = ['official_to_dynamicnet', 'infer_official_arch', 'load_strict', 'unwrap_checkpoint']

_LAYER = re.compile(r'^features\.denseblock_(\d+)\.denselayer_(\d+)\.(.+)$')


def unwrap_checkpoint(checkpoint: Dict, key: str = 'auto') -> Dict[str, Tensor]:
    """Return the state dict of a checkpoint, without ``module.`` prefixes.

    Args:
        checkpoint: A loaded checkpoint: a raw state dict, or a dict holding one under
            ``state_dict``, ``state_dict_ema``, ``ema_state_dict`` or ``model``.
        key: Which entry to take; ``'auto'`` takes ``state_dict``, then ``model``, else the dict
            itself.
    """
    if key == 'auto':
        key = next((k for k in ('state_dict', 'model') if k in checkpoint
                    and isinstance(checkpoint[k], dict)), '')
    if key:
        if key not in checkpoint:
            raise KeyError(f'checkpoint has no {key!r}; it has {sorted(checkpoint)[:10]}')
        checkpoint = checkpoint[key]
    return {k[len('module.'):] if k.startswith('module.') else k: v for k, v in checkpoint.items()}


def infer_official_arch(state_dict: Dict[str, Tensor]) -> Dict:
    """Read the architecture of an official CondenseNetV2 state dict from its shapes.

    Returns:
        A dict with ``arch`` (a name of ``CondenseNetV2.arch_settings`` or a custom arch dict),
        ``deploy`` (converted layout), ``mid_channels`` and ``num_classes`` of the classifier.

    Raises:
        ValueError: If the state dict is not an official CondenseNetV2 one.
    """
    if 'features.init_conv.weight' not in state_dict or 'classifier.weight' not in state_dict:
        raise ValueError('not an official CondenseNetV2 state dict: no features.init_conv.weight '
                         'or classifier.weight (is it a dynamicnet or another model checkpoint?)')
    depths: Dict[int, int] = {}
    growth: Dict[int, int] = {}
    for key, value in state_dict.items():
        match = _LAYER.match(key)
        if match is None:
            continue
        block, layer = int(match.group(1)), int(match.group(2))
        depths[block] = max(depths.get(block, 0), layer)
        if match.group(3) == 'conv_2.conv.weight':
            growth[block] = value.shape[0]
    blocks = sorted(depths)
    if not blocks or blocks != list(range(1, len(blocks) + 1)):
        raise ValueError(f'official CondenseNetV2 state dict with dense blocks {blocks}')
    conv_2 = state_dict['features.denseblock_1.denselayer_1.conv_2.conv.weight']
    lgc_key = 'features.denseblock_1.denselayer_1.conv_1.conv.weight'
    bottleneck_width = state_dict[lgc_key].shape[0]
    groups = bottleneck_width // conv_2.shape[1]
    deploy = 'features.denseblock_1.denselayer_1.conv_1.index' in state_dict
    if deploy:
        in_channels = state_dict['features.init_conv.weight'].shape[0]
        condense_factor = in_channels // state_dict[lgc_key].shape[1]
    else:
        # The masks do not tell C before full condensation; every released config has C = G.
        condense_factor = groups
    arch = dict(
        stages=tuple(depths[b] for b in blocks),
        growth=tuple(growth[b] for b in blocks),
        groups=groups,
        condense_factor=condense_factor,
        stem_stride=2 if len(blocks) == 5 else 1)
    for name, setting in CondenseNetV2.arch_settings.items():
        if all(tuple(setting[k]) == tuple(arch[k]) if isinstance(setting[k], tuple) else
               setting[k] == arch[k] for k in setting):
            arch = name
            break
    return dict(
        arch=arch,
        deploy=deploy,
        mid_channels=[state_dict['fc.weight'].shape[0]],
        num_classes=state_dict['classifier.weight'].shape[0],
        bottleneck=bottleneck_width // growth[1])


def _sfr_index(matrix: Tensor, key: str) -> Tensor:
    """Official dense 0/1 scatter matrix (c_out*G/C, c_out) -> target channel per row."""
    ones = (matrix == 1).sum(dim=1)
    if not (((matrix == 0) | (matrix == 1)).all() and (ones == 1).all()):
        raise ValueError(f'{key}: expected one 1 per row of the official SFR index matrix')
    return matrix.argmax(dim=1).long()


def official_to_dynamicnet(state_dict: Dict[str, Tensor]) -> Tuple[Dict[str, Tensor], Dict]:
    """Map an official CondenseNetV2 state dict to dynamicnet's ``ImageClassifier`` keys.

    Args:
        state_dict: Official state dict (``module.`` prefixes removed), training-time or
            converted layout.

    Returns:
        ``(new_state_dict, info)`` with ``info`` from :func:`infer_official_arch`.
    """
    info = infer_official_arch(state_dict)
    new: Dict[str, Tensor] = {}
    unknown: List[str] = []
    for key, value in state_dict.items():
        match = _LAYER.match(key)
        if match is not None:
            block, layer, rest = int(match.group(1)), int(match.group(2)), match.group(3)
            if rest == 'sfr.index':
                value = _sfr_index(value, key)
            new[f'backbone.stages.{block - 1}.{layer - 1}.{rest}'] = value
        elif key == 'features.init_conv.weight':
            new['backbone.stem.weight'] = value
        elif key.startswith('features.norm_last.'):
            new['backbone.' + key[len('features.'):]] = value
        elif key.startswith('features.se_last.'):
            new['head.' + key[len('features.'):]] = value
        elif key.startswith('fc.'):
            new['head.layers.0.' + key] = value
        elif key.startswith('classifier.'):
            new['head.layers.1.fc.' + key[len('classifier.'):]] = value
        else:
            unknown.append(key)
    if unknown:
        raise ValueError(f'unexpected keys for an official CondenseNetV2: {unknown[:5]}')
    return new, info


def load_strict(model: nn.Module, state_dict: Dict[str, Tensor], what: str) -> None:
    """``load_state_dict(strict=True)`` with a readable error on a layout mismatch.

    Args:
        model: The model to load.
        state_dict: The state dict.
        what: Description of the expected checkpoint, used in the error message.

    Raises:
        ValueError: Missing or unexpected keys, or shape mismatches.
    """
    own = model.state_dict()
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    shapes = [f'{k}: {tuple(state_dict[k].shape)} vs {tuple(v.shape)}' for k, v in own.items()
              if k in state_dict and tuple(state_dict[k].shape) != tuple(v.shape)]
    if missing or unexpected or shapes:
        hint = ''
        if any(k.endswith('.index') for k in unexpected):
            hint = ' (the checkpoint is already converted)'
        elif any(k.endswith('._mask') for k in unexpected):
            hint = ' (the checkpoint is a training-time one; build the model with deploy=False)'
        raise ValueError(
            f'checkpoint does not match {what}{hint}: {len(missing)} missing keys '
            f'{missing[:3]}, {len(unexpected)} unexpected keys {unexpected[:3]}, '
            f'{len(shapes)} shape mismatches {shapes[:3]}')
    model.load_state_dict(state_dict, strict=True)
