# Copyright (c) dynamicnet contributors. All rights reserved.
"""Convert an official MSDNet checkpoint (``kalviny/MSDNet-PyTorch``) to dynamicnet.

The official layout (``../shared/specs/official-checkpoints/msdnet_cifar100.tsv``) names layers by
their position in ``nn.Sequential``s; dynamicnet's :class:`~dynamicnet.models.backbones.MSDNet` +
:class:`~dynamicnet.models.classifiers.EarlyExitClassifier` use mmcv ``ConvModule`` names:

=================================================  ================================================
official                                           dynamicnet
=================================================  ================================================
``blocks.i.j.layers.s.net.{0,1}`` (first layer)    ``backbone.blocks.i.j.scales.s.{conv,bn}``
``blocks.0.0.layers.0.{0,1}`` (ImageNet stem)      ``backbone.blocks.0.0.scales.0.{conv,bn}``
``blocks.i.j.layers.s.conv_{down,normal}.net.k``   ``backbone.blocks.i.j.scales.s.{down,normal}.*``
k = 0/1 (1x1 bottleneck), 3/4 (3x3 conv/BN)        ``bottleneck.{conv,bn}``, ``conv.{conv,bn}``
``blocks.i.j.m.s.net.{0,1}`` (transition)          ``backbone.blocks.i.j.scales.s.{conv,bn}``
``classifier.i.m.{0,1}.net.{0,1}``                 ``exits.i.convs.{0,1}.{conv,bn}``
``classifier.i.linear.*``                          ``exits.i.fc.*``
=================================================  ================================================

Without bottlenecks a branch is ``net.{0,1}`` = the 3x3 conv/BN. A ``module.`` prefix
(``nn.DataParallel``) is stripped; the official ``{'state_dict': ...}`` wrapper is unwrapped.

Usage::

    python tools/model_converters/msdnet_to_dynamicnet.py official.pth.tar msdnet_dynamicnet.pth
"""
import argparse
import re
from collections import OrderedDict
from typing import Dict

import torch

__all__ = ['convert_msdnet']

_CONV_BN = {'0': 'conv', '1': 'bn'}


def _branch_key(prefix: str, index: str, rest: str, has_bottleneck: bool) -> str:
    if has_bottleneck:
        part = {'0': 'bottleneck.conv', '1': 'bottleneck.bn', '3': 'conv.conv', '4': 'conv.bn'}
    else:
        part = {'0': 'conv.conv', '1': 'conv.bn'}
    if index not in part:
        raise KeyError(f'unexpected branch layer {prefix}.net.{index}.{rest}')
    return f'{prefix}.{part[index]}.{rest}'


def convert_msdnet(state_dict: Dict[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """Map official MSDNet state-dict keys to dynamicnet's (tensors unchanged).

    Raises:
        KeyError: On a key that fits no official pattern (nothing is dropped silently).
    """
    state_dict = {re.sub(r'^module\.', '', k): v for k, v in state_dict.items()}
    bottleneck_branches = {
        m.group(1)
        for k in state_dict for m in [re.match(r'(.*\.conv_(?:down|normal))\.net\.3\.', k)] if m
    }
    converted = OrderedDict()
    for key, value in state_dict.items():
        m = re.match(r'blocks\.(\d+)\.(\d+)\.layers\.(\d+)\.conv_(down|normal)\.net\.(\d+)\.(.+)$',
                     key)
        if m:
            b, j, s, kind, idx, rest = m.groups()
            branch = f'blocks.{b}.{j}.layers.{s}.conv_{kind}'
            new = _branch_key(f'backbone.blocks.{b}.{j}.scales.{s}.{kind}', idx, rest,
                              branch in bottleneck_branches)
            converted[new] = value
            continue
        m = (re.match(r'blocks\.(\d+)\.(\d+)\.layers\.(\d+)\.net\.([01])\.(.+)$', key)
             or re.match(r'blocks\.(\d+)\.(\d+)\.m\.(\d+)\.net\.([01])\.(.+)$', key)
             or re.match(r'blocks\.(0)\.(0)\.layers\.(0)\.([01])\.(.+)$', key))
        if m:
            b, j, s, idx, rest = m.groups()
            converted[f'backbone.blocks.{b}.{j}.scales.{s}.{_CONV_BN[idx]}.{rest}'] = value
            continue
        m = re.match(r'classifier\.(\d+)\.m\.([01])\.net\.([01])\.(.+)$', key)
        if m:
            i, c, idx, rest = m.groups()
            converted[f'exits.{i}.convs.{c}.{_CONV_BN[idx]}.{rest}'] = value
            continue
        m = re.match(r'classifier\.(\d+)\.linear\.(.+)$', key)
        if m:
            converted[f'exits.{m.group(1)}.fc.{m.group(2)}'] = value
            continue
        raise KeyError(f'unrecognised official MSDNet key: {key}')
    return converted


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='official checkpoint (.pth / .pth.tar)')
    parser.add_argument('dst', help='output path')
    args = parser.parse_args()
    # official checkpoints may pickle the argparse namespace next to the weights
    torch.serialization.add_safe_globals([argparse.Namespace])
    checkpoint = torch.load(args.src, map_location='cpu', weights_only=True)
    state_dict = checkpoint.get('state_dict', checkpoint)
    converted = convert_msdnet(state_dict)
    torch.save(dict(state_dict=converted, meta=dict(converted_from='kalviny/MSDNet-PyTorch')),
               args.dst)
    print(f'converted {len(converted)} tensors to {args.dst}')


if __name__ == '__main__':
    main()
