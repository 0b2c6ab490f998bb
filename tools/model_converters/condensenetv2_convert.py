# Copyright (c) dynamicnet contributors. All rights reserved.
"""Turn a trained CondenseNetV2 checkpoint into the deployable network (spec §6).

Every learned group convolution becomes index-select + grouped 1x1 conv + channel shuffle and
every SFR becomes shuffle + grouped 1x1 conv + channel scatter-add; no masks remain. The tool
loads the checkpoint strictly into the model of ``config`` (so a checkpoint of another
architecture, or one that is already converted, is refused with the reason), asserts that every
layer is fully condensed (training reached progress 0.5), converts every training-time
``CondenseNetV2`` in the model (classifier or detector backbone), checks that the converted
backbone reproduces the original one on a random input, and saves the converted weights. Load
them with the same config and ``model.backbone.deploy=True`` (e.g. the
``condensenetv2-*-deploy_8xb128_in1k.py`` configs).

By default the ``state_dict`` of the checkpoint is converted; with mmengine's ``EMAHook`` that
entry holds the EMA weights, as the official ``convert_and_eval.py`` uses. ``--source-weights``
converts the raw (non-EMA) weights instead.

With ``--fuse-norm`` the BN of each 3x3 block is also folded into the condensed LGC before it
(``CondenseNetV2.fuse_norm``, a deploy-time fusion for inference); load that checkpoint with
``model.backbone.deploy=True model.backbone.norm_fused=True``.

Example::

    python tools/model_converters/condensenetv2_convert.py \
        configs/condensenetv2/condensenetv2-a_8xb128_in1k.py work_dirs/.../epoch_350.pth \
        checkpoints/condensenetv2-a_deploy.pth
"""
import argparse
import copy
import os
import os.path as osp
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.registry import init_default_scope

from dynamicnet.models.backbones.condensenetv2 import CondenseNetV2
from dynamicnet.models.utils.condensenetv2_checkpoint import load_strict, unwrap_checkpoint
from dynamicnet.registry import MODELS


def training_backbones(model: nn.Module) -> Dict[str, CondenseNetV2]:
    """Training-time CondenseNetV2 modules of ``model`` by qualified name."""
    return {
        name: m
        for name, m in model.named_modules() if isinstance(m, CondenseNetV2) and not m.deploy
    }


def check_condensed(backbones: Dict[str, CondenseNetV2]) -> None:
    """Raise ``ValueError`` naming the layers that are not fully condensed."""
    problems: List[str] = []
    for prefix, backbone in backbones.items():
        for name, layer in backbone.condensing_layers():
            if not layer.is_fully_condensed():
                problems.append(f'{prefix}.{name} (stage {layer.stage}/'
                                f'{layer.condense_factor - 1}, kept per group '
                                f'{layer.kept_per_group()[:4]}..., needs '
                                f'{layer.num_candidates // layer.condense_factor})')
    if problems:
        raise ValueError(
            f'checkpoint is under-condensed: {len(problems)} learned group conv / SFR layers '
            f'are not fully condensed, e.g. {problems[:2]}. Conversion would give a model that '
            f'differs from the trained one; train until progress >= 0.5 (CondensationHook) '
            f'first.')


@torch.no_grad()
def convert_model(model: nn.Module,
                  verify_input: Optional[torch.Tensor] = None,
                  fuse_norm: bool = False) -> Tuple[float, float]:
    """Convert every training-time CondenseNetV2 of ``model`` in place.

    Args:
        model: A loaded model (classifier, detector, ...).
        verify_input: Optional (B, 3, H, W) input; each backbone's outputs before and after
            conversion are compared in eval mode.
        fuse_norm: Also fold each 3x3 block's BN into the condensed LGC
            (``CondenseNetV2.fuse_norm``; inference only).

    Returns:
        The largest absolute output difference seen and the largest absolute output value of
        the original backbone (both 0.0 without ``verify_input``).
    """
    backbones = training_backbones(model)
    if not backbones:
        raise ValueError('the model has no training-time CondenseNetV2 (already converted, or '
                         'another architecture?)')
    check_condensed(backbones)
    max_diff = max_out = 0.0
    for backbone in backbones.values():
        reference = copy.deepcopy(backbone).eval() if verify_input is not None else None
        backbone.switch_to_deploy()
        if fuse_norm:
            backbone.fuse_norm()
        if reference is not None:
            was_training = backbone.training
            backbone.eval()
            for a, b in zip(reference(verify_input), backbone(verify_input)):
                max_diff = max(max_diff, (a - b).abs().max().item())
                max_out = max(max_out, a.abs().max().item())
            backbone.train(was_training)
    return max_diff, max_out


def convert(config: str,
            checkpoint: str,
            out: str,
            source_weights: bool = False,
            cfg_options: Optional[dict] = None,
            verify: bool = True,
            fuse_norm: bool = False) -> Tuple[float, float]:
    """Convert ``checkpoint`` (trained with ``config``) and save it to ``out``.

    Returns:
        The verification difference and output scale (see :func:`convert_model`).
    """
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model)
    ckpt = torch.load(checkpoint, map_location='cpu', weights_only=False)
    if source_weights:
        if 'ema_state_dict' not in ckpt:
            raise KeyError('--source-weights needs a checkpoint saved with EMAHook')
        state_dict = {k: v for k, v in unwrap_checkpoint(ckpt, 'ema_state_dict').items()
                      if k != 'steps'}
    else:
        state_dict = unwrap_checkpoint(ckpt, 'auto')
    load_strict(model, state_dict, f'the training-time model of {osp.basename(config)}')
    first = next(iter(training_backbones(model).values()), None)
    verify_input = None
    if verify and first is not None:
        size = 64 if first.arch['stem_stride'] == 2 else 32
        verify_input = torch.randn(2, first.stem.in_channels, size, size,
                                   generator=torch.Generator().manual_seed(0))
    model.eval()
    diff = convert_model(model, verify_input, fuse_norm)
    meta = dict(ckpt.get('meta', {}) or {})
    meta['condensenetv2_deploy'] = True
    meta['condensenetv2_norm_fused'] = fuse_norm
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    torch.save(dict(state_dict=model.state_dict(), meta=meta), out)
    return diff


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='training config of the checkpoint')
    parser.add_argument('checkpoint', help='trained (training-time) checkpoint')
    parser.add_argument('out', help='output checkpoint of the deployable model')
    parser.add_argument(
        '--source-weights',
        action='store_true',
        help='convert the raw weights (ema_state_dict of an EMAHook checkpoint) instead of '
        'the EMA weights')
    parser.add_argument(
        '--fuse-norm',
        action='store_true',
        help='also fold the BN of each 3x3 block into the condensed LGC before it (inference '
        'only; load with model.backbone.norm_fused=True)')
    parser.add_argument('--no-verify', action='store_true', help='skip the output check')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = parser.parse_args()
    try:
        diff, scale = convert(args.config, args.checkpoint, args.out, args.source_weights,
                              args.cfg_options, not args.no_verify, args.fuse_norm)
    except ValueError as err:
        raise SystemExit(f'error: {err}')
    if not args.no_verify:
        print(f'max |backbone output difference| after conversion: {diff:.3g} (max |output| '
              f'{scale:.3g}, relative {diff / max(scale, 1e-12):.2g})')
    fused = ' model.backbone.norm_fused=True' if args.fuse_norm else ''
    print(f'saved {args.out}; load it with model.backbone.deploy=True{fused}')


if __name__ == '__main__':
    main()
