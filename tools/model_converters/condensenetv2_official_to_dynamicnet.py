# Copyright (c) dynamicnet contributors. All rights reserved.
"""Convert an official CondenseNetV2 checkpoint (jianghaojun/CondenseNetV2) to dynamicnet.

Both official layouts are accepted and detected automatically:

* training-time (``..._mask``/``_count``/``_stage`` buffers; e.g. the unconverted C checkpoint):
  loads into ``CondenseNetV2(deploy=False)``, continues training or is converted with
  ``condensenetv2_convert.py``;
* converted (``conv_1.index``/``sfr.index``; the released ``converted_cdnv2_a/b/c``): loads into
  ``CondenseNetV2(deploy=True)`` (configs ``condensenetv2-*-deploy_8xb128_in1k.py``). The official
  dense 0/1 SFR index matrix becomes a channel index for ``index_add``.

The result is an mmengine checkpoint of an ``ImageClassifier`` (``backbone.*``, ``head.*``);
before saving it is loaded strictly into the matching dynamicnet model.

Example::

    python tools/model_converters/condensenetv2_official_to_dynamicnet.py \
        converted_cdnv2_a.pth checkpoints/condensenetv2-a-deploy_official.pth
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.registry import init_default_scope

from dynamicnet.models.backbones.condensenetv2 import CondenseNetV2
from dynamicnet.models.utils.condensenetv2_checkpoint import (load_strict,
                                                              official_to_dynamicnet,
                                                              unwrap_checkpoint)
from dynamicnet.registry import MODELS


def build_classifier(info: dict) -> torch.nn.Module:
    """dynamicnet ``ImageClassifier`` matching ``info`` from ``infer_official_arch``."""
    init_default_scope('mmpretrain')
    arch = info['arch']
    arch = CondenseNetV2.arch_settings[arch] if isinstance(arch, str) else arch
    in_channels = 2 * arch['growth'][0] + sum(n * k for n, k in zip(arch['stages'],
                                                                    arch['growth']))
    return MODELS.build(
        dict(
            type='mmpretrain.ImageClassifier',
            backbone=dict(
                type='dynamicnet.CondenseNetV2',
                arch=info['arch'],
                deploy=info['deploy'],
                bottleneck=info['bottleneck'],
                out_indices=(-1, )),
            neck=dict(type='mmpretrain.GlobalAveragePooling'),
            head=dict(
                type='dynamicnet.CondenseNetV2ClsHead',
                num_classes=info['num_classes'],
                in_channels=in_channels,
                mid_channels=info['mid_channels'])))


def convert(src: str, dst: str, key: str = 'auto') -> dict:
    """Convert ``src`` (official) to ``dst`` (dynamicnet); returns the inferred info."""
    checkpoint = torch.load(src, map_location='cpu', weights_only=False)
    state_dict = unwrap_checkpoint(checkpoint, key)
    new, info = official_to_dynamicnet(state_dict)
    model = build_classifier(info)
    layout = 'converted' if info['deploy'] else 'training-time'
    load_strict(model, new, f'dynamicnet CondenseNetV2-{info["arch"]} ({layout})')
    os.makedirs(osp.dirname(osp.abspath(dst)), exist_ok=True)
    torch.save(dict(state_dict=new, meta=dict(condensenetv2=info, source=osp.basename(src))),
               dst)
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='official checkpoint (.pth / .pth.tar)')
    parser.add_argument('dst', help='output dynamicnet checkpoint')
    parser.add_argument(
        '--key',
        default='auto',
        help="entry holding the weights: 'auto' (state_dict, model or the file itself), "
        "'state_dict_ema' for timm EMA weights, or another key")
    args = parser.parse_args()
    try:
        info = convert(args.src, args.dst, args.key)
    except (ValueError, KeyError) as err:
        raise SystemExit(f'error: {err}')
    layout = 'converted (deploy=True)' if info['deploy'] else 'training-time (deploy=False)'
    print(f'CondenseNetV2 arch={info["arch"]}, {layout}, classifier '
          f'{info["mid_channels"]} -> {info["num_classes"]}; saved {args.dst}')


if __name__ == '__main__':
    main()
