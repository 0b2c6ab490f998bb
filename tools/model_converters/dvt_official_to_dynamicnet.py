# Copyright (c) dynamicnet contributors. All rights reserved.
"""Convert a checkpoint of the official DVT code to a dynamicnet ``DVT`` state dict.

    python tools/model_converters/dvt_official_to_dynamicnet.py SRC DST [--ema]

Official code: ``blackfeather-wang/Dynamic-Vision-Transformer`` (commit 22cc895); its parameter
layout for ``DVT_T2t_vit_12`` is listed in ``../shared/specs/official-checkpoints/
dvt_t2t_vit_12.tsv``. The same rules cover ``DVT_T2t_vit_14`` (deeper/wider, same names) and the
timm-style names of ``DVT_Deit_small`` (``patch_embed.proj``, learned ``pos_embed``, qkv bias).

Mapping (``E`` = exit index 0/1/2 for ``less_less_token`` / ``less_token`` / ``normal_token``)::

    <exit>.cls_token                      -> backbones.E.cls_token
    <exit>.tokens_to_token.*              -> backbones.E.tokens_to_token.*   (same names)
    <exit>.patch_embed.proj.*             -> backbones.E.patch_embed.projection.*
    <exit>.pos_embed                      -> backbones.E.pos_embed (DeiT); dropped for T2T-ViT,
                                             whose fixed sinusoid is rebuilt (checked equal)
    <exit>.blocks.L.norm1 / norm2         -> backbones.E.layers.L.ln1 / ln2
    <exit>.blocks.L.attn.{qkv,proj}       -> backbones.E.layers.L.attn.{qkv,proj}
    <exit>.blocks.L.mlp.fc1 / fc2         -> backbones.E.layers.L.ffn.layers.0.0 / ffn.layers.1
    <exit>.blocks.L.feature_resuse_mlp.0  -> backbones.E.layers.L.feature_reuse.norm
    <exit>.blocks.L.feature_resuse_mlp.1.fc1 / fc2 -> backbones.E.layers.L.feature_reuse.fc1 / fc2
    <exit>.relation_reuse_conv.0 / 2      -> backbones.E.relation_reuse_mlp.mlp.0 / 2
    <exit>.norm                           -> backbones.E.norm
    <exit>.head                           -> heads.E.layers.head   (VisionTransformerClsHead)

The output is ``{'state_dict': ..., 'meta': {...}}`` loadable with ``load_from`` or
``tools/test.py`` and a ``configs/dvt`` config of the same architecture.
"""
import argparse
import re
from collections import OrderedDict
from typing import Dict, Mapping

import torch

__all__ = ['EXIT_PREFIXES', 'convert_dvt', 'load_official', 'main']

EXIT_PREFIXES = ('less_less_token', 'less_token', 'normal_token')

# (official suffix regex, dynamicnet suffix template); first match wins
_RULES = [
    (r'blocks\.(\d+)\.norm1\.(.*)', r'layers.\1.ln1.\2'),
    (r'blocks\.(\d+)\.norm2\.(.*)', r'layers.\1.ln2.\2'),
    (r'blocks\.(\d+)\.attn\.(qkv|proj)\.(.*)', r'layers.\1.attn.\2.\3'),
    (r'blocks\.(\d+)\.mlp\.fc1\.(.*)', r'layers.\1.ffn.layers.0.0.\2'),
    (r'blocks\.(\d+)\.mlp\.fc2\.(.*)', r'layers.\1.ffn.layers.1.\2'),
    (r'blocks\.(\d+)\.feature_resuse_mlp\.0\.(.*)', r'layers.\1.feature_reuse.norm.\2'),
    (r'blocks\.(\d+)\.feature_resuse_mlp\.1\.(fc1|fc2)\.(.*)', r'layers.\1.feature_reuse.\2.\3'),
    (r'relation_reuse_conv\.(0|2)\.(.*)', r'relation_reuse_mlp.mlp.\1.\2'),
    (r'tokens_to_token\.(.*)', r'tokens_to_token.\1'),
    (r'patch_embed\.proj\.(.*)', r'patch_embed.projection.\1'),
    (r'(cls_token|pos_embed)', r'\1'),
    (r'norm\.(.*)', r'norm.\1'),
]


def _sinusoid(n_position: int, dims: int) -> torch.Tensor:
    from mmpretrain.models.backbones.t2t_vit import get_sinusoid_encoding
    return get_sinusoid_encoding(n_position, dims)


def convert_dvt(official: Mapping[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """Map an official DVT state dict to dynamicnet's :class:`~dynamicnet.models.DVT` keys.

    Args:
        official: The official ``model.state_dict()`` (``module.`` prefixes allowed).

    Returns:
        The converted state dict.

    Raises:
        KeyError: On a key no rule covers (nothing is dropped silently).
        ValueError: When a T2T-ViT ``pos_embed`` is not the fixed sinusoid dynamicnet rebuilds.
    """
    converted: 'OrderedDict[str, torch.Tensor]' = OrderedDict()
    is_t2t = any('.tokens_to_token.' in k for k in official)
    for key, value in official.items():
        key = key[len('module.'):] if key.startswith('module.') else key
        prefix, _, rest = key.partition('.')
        if prefix not in EXIT_PREFIXES:
            raise KeyError(f'{key}: not a DVT exit ({EXIT_PREFIXES})')
        index = EXIT_PREFIXES.index(prefix)
        if rest.startswith('head.'):
            converted[f'heads.{index}.layers.{rest}'] = value
            continue
        if rest == 'pos_embed' and is_t2t:
            expected = _sinusoid(value.shape[1], value.shape[2]).to(value.dtype)
            if not torch.allclose(value.cpu(), expected, atol=1e-5):
                raise ValueError(f'{key} is not the fixed sinusoidal position embedding')
            continue
        for pattern, template in _RULES:
            if re.fullmatch(pattern, rest):
                converted[f'backbones.{index}.' + re.sub(pattern, template, rest)] = value
                break
        else:
            raise KeyError(f'{key}: no conversion rule')
    return converted


def load_official(path: str, ema: bool = False) -> Dict[str, torch.Tensor]:
    """Read the model weights of an official checkpoint (``model`` / ``model_ema`` / raw)."""
    # the official checkpoints also pickle argparse Namespaces and optimiser state
    ckpt = torch.load(path, map_location='cpu', weights_only=False)
    if not isinstance(ckpt, dict):
        raise TypeError(f'{path}: expected a dict checkpoint, got {type(ckpt).__name__}')
    key = 'model_ema' if ema else 'model'
    if key in ckpt:
        return ckpt[key]
    if ema:
        raise KeyError(f'{path} has no model_ema entry')
    return ckpt.get('state_dict', ckpt)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='official DVT checkpoint (.pth)')
    parser.add_argument('dst', help='output dynamicnet checkpoint (.pth)')
    parser.add_argument('--ema', action='store_true', help='convert the EMA weights')
    args = parser.parse_args(argv)
    state = convert_dvt(load_official(args.src, args.ema))
    torch.save(
        dict(state_dict=state, meta=dict(converted_from=args.src, converter='dvt_official')),
        args.dst)
    print(f'{len(state)} tensors written to {args.dst}')


if __name__ == '__main__':
    main()
