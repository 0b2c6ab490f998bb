# Copyright (c) dynamicnet contributors. All rights reserved.
"""Independent re-implementation of the official CondenseNetV2 forward (test reference only).

Written from ``jianghaojun/CondenseNetV2`` @ 4431162 as described in
``../shared/specs/condensenetv2.md`` §2-§6: the official module tree and state-dict keys
(``features.denseblock_i.denselayer_j...``), h-swish as ``x * relu6(x + 3) / 6``, masked dense
1x1 convolutions, and the official converted layers with the **dense 0/1 index matmul** of
``CondensingSFR`` and the official index construction of ``CondensingLGC``. It shares no code
with dynamicnet, so agreement with it tests dynamicnet's layers, mapping and conversion.
It also builds random official-layout state dicts from the parameter tables in
``../shared/specs/official-checkpoints/``.
"""
import ast
from pathlib import Path
from typing import Dict, List, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F

SPEC_DIR = Path(__file__).resolve().parents[3].parent / 'shared' / 'specs' / 'official-checkpoints'

OFFICIAL_ARCHS = {
    'a': dict(stages=[1, 1, 4, 6, 8], growth=[8, 8, 16, 32, 64], g=8, fc=828),
    'b': dict(stages=[2, 4, 6, 8, 6], growth=[6, 12, 24, 48, 96], g=6, fc=1024),
    'c': dict(stages=[4, 6, 8, 10, 8], growth=[8, 16, 32, 64, 128], g=8, fc=1024),
}


class HS(nn.Module):

    def forward(self, x):
        return x * F.relu6(x + 3) / 6


def _act(name):
    return HS() if name == 'HS' else nn.ReLU()


class SELayer(nn.Module):

    def __init__(self, inplanes, reduction=16):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Sequential(
            nn.Linear(inplanes, inplanes // reduction, bias=False), nn.ReLU(),
            nn.Linear(inplanes // reduction, inplanes, bias=False), nn.Sigmoid())

    def forward(self, x):
        b, c = x.shape[:2]
        y = self.fc(self.avg_pool(x).view(b, c)).view(b, c, 1, 1)
        return x * y.expand_as(x)


class Conv(nn.Sequential):

    def __init__(self, cin, cout, k, padding, groups, activation):
        super().__init__()
        self.add_module('norm', nn.BatchNorm2d(cin))
        self.add_module('activation', _act(activation))
        self.add_module('conv', nn.Conv2d(cin, cout, k, padding=padding, groups=groups,
                                          bias=False))


class _Masked(nn.Module):
    """Official LGC / SFR training layer (condensation driven explicitly by ``drop``)."""

    def __init__(self, cin, cout, groups, condense_factor, activation, sfr):
        super().__init__()
        self.norm = nn.BatchNorm2d(cin)
        self.activation = _act(activation)
        self.conv = nn.Conv2d(cin, cout, 1, bias=False)
        self.in_channels, self.out_channels = cin, cout
        self.groups, self.condense_factor, self.is_sfr = groups, condense_factor, sfr
        self.register_buffer('_count', torch.zeros(1))
        self.register_buffer('_stage', torch.zeros(1))
        self.register_buffer('_mask', torch.ones(self.conv.weight.size()))

    def forward(self, x):
        x = self.activation(self.norm(x))
        return F.conv2d(x, self.conv.weight * self._mask)

    @torch.no_grad()
    def drop(self):
        """One official ``_dropping(delta)`` call."""
        weight = (self.conv.weight * self._mask).abs().squeeze()
        count = int(self._count.item())
        if not self.is_sfr:
            delta = self.in_channels // self.condense_factor
            d_out = self.out_channels // self.groups
            weight = weight.view(d_out, self.groups, self.in_channels).transpose(0, 1)
            weight = weight.contiguous().view(self.out_channels, self.in_channels)
            for i in range(self.groups):
                wi = weight[i * d_out:(i + 1) * d_out, :]
                for d in wi.sum(0).sort()[1][count:count + delta]:
                    self._mask[i::self.groups, d, :, :].fill_(0)
        else:
            delta = self.out_channels // self.condense_factor
            d_in = self.in_channels // self.groups
            weight = weight.view(self.out_channels, d_in, self.groups).transpose(1, 2)
            weight = weight.contiguous().view(self.out_channels, self.in_channels)
            for i in range(self.groups):
                wi = weight[:, i * d_in:(i + 1) * d_in]
                for d in wi.sum(1).sort()[1][count:count + delta]:
                    self._mask[d, i::self.groups, :, :].fill_(0)
        self._count.add_(delta)
        self._stage.add_(1)


class CondensingLGC(nn.Module):
    """Official converted LGC: index_select -> BN -> act -> group conv -> ShuffleLayer."""

    def __init__(self, cin, cout, groups, condense_factor, activation, model=None):
        super().__init__()
        self.groups = groups
        sel = cin * groups // condense_factor
        self.register_buffer('index', torch.zeros(sel, dtype=torch.long))
        self.norm = nn.BatchNorm2d(sel)
        self.activation = _act(activation)
        self.conv = nn.Conv2d(sel, cout, 1, groups=groups, bias=False)
        if model is not None:
            self._copy(model, cin, cout, condense_factor)

    @torch.no_grad()
    def _copy(self, model, cin, cout, condense_factor):
        mask = model._mask.gt(0)
        per = cin // condense_factor
        pos = 0
        for i in range(self.groups):
            for j in range(cin):
                if pos < per * (i + 1) and mask[i, j, 0, 0]:
                    self.index[pos] = j
                    pos += 1
        for attr in ('weight', 'bias', 'running_mean', 'running_var'):
            getattr(self.norm, attr).copy_(getattr(model.norm, attr)[self.index])
        weight = model.conv.weight * model._mask
        d_out = cout // self.groups
        for i in range(self.groups):
            for r in range(d_out):
                self.conv.weight[r + i * d_out, :, 0, 0] = weight[i + r * self.groups,
                                                                  self.index[i * per:(i + 1) *
                                                                             per], 0, 0]

    def forward(self, x):
        x = torch.index_select(x, 1, self.index)
        x = self.conv(self.activation(self.norm(x)))
        b, c, h, w = x.shape
        x = x.view(b, self.groups, c // self.groups, h, w).transpose(1, 2).contiguous()
        return x.view(b, -1, h, w)


class CondensingSFR(nn.Module):
    """Official converted SFR: BN -> act -> ShuffleLayerTrans -> group conv -> index matmul."""

    def __init__(self, cin, cout, groups, condense_factor, activation, model=None):
        super().__init__()
        self.groups, self.out_channels = groups, cout
        sel = cout * groups // condense_factor
        self.norm = nn.BatchNorm2d(cin)
        self.activation = _act(activation)
        self.conv = nn.Conv2d(cin, sel, 1, groups=groups, bias=False)
        self.register_buffer('index', torch.zeros(sel, cout))
        if model is not None:
            self._copy(model, cin, cout, condense_factor)

    @torch.no_grad()
    def _copy(self, model, cin, cout, condense_factor):
        self.norm.load_state_dict(model.norm.state_dict())
        mask = model._mask.gt(0)
        weight = model.conv.weight * model._mask
        per = cout // condense_factor
        for i in range(self.groups):
            pos = 0
            for d in range(cout):
                if mask[d, i, 0, 0]:
                    self.conv.weight[i * per + pos, :, 0, 0] = weight[d, i::self.groups, 0, 0]
                    self.index[i * per + pos, d] = 1
                    pos += 1

    def forward(self, x):
        x = self.activation(self.norm(x))
        b, c, h, w = x.shape
        x = x.view(b, c // self.groups, self.groups, h, w).transpose(1, 2).contiguous()
        x = self.conv(x.view(b, -1, h, w))
        n, c, h, w = x.shape
        x = x.view(n, c, h * w).transpose(1, 2).contiguous()
        out = torch.matmul(x, self.index).transpose(1, 2).contiguous()
        return out.view(n, self.out_channels, h, w)


class DenseLayer(nn.Module):

    def __init__(self, cin, k, g, activation, use_se, converted):
        super().__init__()
        if converted:
            self.conv_1 = CondensingLGC(cin, 4 * k, g, g, activation)
            self.sfr = CondensingSFR(k, cin, g, g, activation)
        else:
            self.conv_1 = _Masked(cin, 4 * k, g, g, activation, sfr=False)
            self.sfr = _Masked(k, cin, g, g, activation, sfr=True)
        self.conv_2 = Conv(4 * k, k, 3, 1, g, activation)
        self.use_se = use_se
        if use_se:
            self.se = SELayer(k, reduction=1)

    def forward(self, x):
        x_ = x
        x = self.conv_2(self.conv_1(x))
        if self.use_se:
            x = self.se(x)
        return torch.cat([x_ + self.sfr(x), x], 1)


class OfficialCondenseNetV2(nn.Module):
    """``cdnv2_a/b/c`` of the official code (ImageNet), training-time or converted."""

    def __init__(self, arch='a', converted=False, num_classes=1000):
        super().__init__()
        cfg = OFFICIAL_ARCHS[arch]
        self.features = nn.Sequential()
        channels = 2 * cfg['growth'][0]
        self.features.add_module('init_conv', nn.Conv2d(3, channels, 3, 2, 1, bias=False))
        for i, (n, k) in enumerate(zip(cfg['stages'], cfg['growth'])):
            activation = 'HS' if i >= 2 else 'ReLU'
            block = nn.Sequential()
            for j in range(n):
                block.add_module(f'denselayer_{j + 1}',
                                 DenseLayer(channels, k, cfg['g'], activation, i >= 3, converted))
                channels += k
            self.features.add_module(f'denseblock_{i + 1}', block)
            if i < len(cfg['stages']) - 1:
                self.features.add_module(f'transition_{i + 1}', nn.AvgPool2d(2, 2))
        self.features.add_module('norm_last', nn.BatchNorm2d(channels))
        self.features.add_module('relu_last', nn.ReLU())
        self.features.add_module('pool_last', nn.AvgPool2d(7))
        self.features.add_module('se_last', SELayer(channels, reduction=16))
        self.fc = nn.Linear(channels, cfg['fc'])
        self.fc_act = HS()
        self.classifier = nn.Linear(cfg['fc'], num_classes)

    def forward(self, x):
        out = self.features(x).flatten(1)
        return self.classifier(self.fc_act(self.fc(out)))

    def condense_fully(self):
        for m in self.modules():
            if isinstance(m, _Masked):
                for _ in range(m.condense_factor - 1):
                    m.drop()

    def convert(self) -> 'OfficialCondenseNetV2':
        """Official ``convert_model`` (on a copy)."""
        import copy
        new = copy.deepcopy(self)
        for layer in new.modules():
            if isinstance(layer, DenseLayer):
                lgc, sfr = layer.conv_1, layer.sfr
                act = 'HS' if isinstance(lgc.activation, HS) else 'ReLU'
                layer.conv_1 = CondensingLGC(lgc.in_channels, lgc.out_channels, lgc.groups,
                                             lgc.condense_factor, act, lgc)
                layer.sfr = CondensingSFR(sfr.in_channels, sfr.out_channels, sfr.groups,
                                          sfr.condense_factor, act, sfr)
        return new


def read_layout(name: str) -> List:
    """(key, shape, dtype) rows of ``official-checkpoints/<name>.tsv``."""
    rows = []
    for line in (SPEC_DIR / f'{name}.tsv').read_text().splitlines():
        if not line or line.startswith('#'):
            continue
        key, shape, dtype = line.split('\t')
        rows.append((key, tuple(ast.literal_eval(shape)), dtype))
    return rows


def random_official_state_dict(name: str,
                               seed: int = 0,
                               groups: int = 8,
                               condense_factor: int = 8) -> Dict[str, torch.Tensor]:
    """A random-weight state dict with exactly the keys/shapes/dtypes of ``<name>.tsv``.

    Weights and BN statistics are random; masks (training layout) and index buffers (converted
    layout) are random but valid fully condensed structures.
    """
    gen = torch.Generator().manual_seed(seed)
    sd: Dict[str, torch.Tensor] = {}
    rows = read_layout(name)
    shapes = {k: s for k, s, _ in rows}
    for key, shape, dtype in rows:
        if key.endswith('num_batches_tracked'):
            sd[key] = torch.tensor(100, dtype=torch.int64)
        elif key.endswith('running_var'):
            sd[key] = torch.rand(shape, generator=gen) + 0.5
        elif key.endswith(('norm.weight', 'norm_last.weight')):
            sd[key] = torch.rand(shape, generator=gen) + 0.5
        elif key.endswith(('_count', '_stage')):
            cout, cin = shapes[key.rsplit('.', 1)[0] + '._mask'][:2]
            cand = cout if '.sfr.' in key else cin
            sd[key] = torch.full(shape, float(condense_factor - 1 if key.endswith('_stage') else
                                              cand - cand // condense_factor))
        elif key.endswith('._mask'):
            sd[key] = _random_mask(shape, '.sfr.' in key, groups, condense_factor, gen)
        elif key.endswith('conv_1.index'):
            cin = shapes[key.replace('conv_1.index', 'sfr.conv.weight')][0]
            per = cin // condense_factor
            sd[key] = torch.cat([torch.randperm(cin, generator=gen)[:per].sort()[0]
                                 for _ in range(groups)])
        elif key.endswith('sfr.index'):
            sel, cout = shape
            per = cout // condense_factor
            index = torch.zeros(shape)
            for i in range(groups):
                outs = torch.randperm(cout, generator=gen)[:per].sort()[0]
                index[i * per + torch.arange(per), outs] = 1
            sd[key] = index
        else:
            fan_in = max(1, int(torch.tensor(shape[1:]).prod().item())) if len(shape) > 1 else 1
            sd[key] = torch.randn(shape, generator=gen) * (1.0 / fan_in)**0.5
            if dtype == 'int64':
                sd[key] = sd[key].long()
    return sd


def _random_mask(shape, sfr: bool, groups: int, condense_factor: int,
                 gen: torch.Generator) -> torch.Tensor:
    cout, cin = shape[:2]
    mask = torch.zeros(shape)
    for i in range(groups):
        if sfr:
            outs = torch.randperm(cout, generator=gen)[:cout // condense_factor]
            for o in outs:
                mask[o, i::groups] = 1
        else:
            ins = torch.randperm(cin, generator=gen)[:cin // condense_factor]
            mask[i::groups, ins] = 1
    return mask


def randomize_(model: nn.Module, seed: int = 0, sfr_gamma: Optional[float] = 0.5) -> None:
    """Random BN statistics and affine parameters (SFR gamma non-zero), in place."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=gen) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=gen) * sfr_gamma + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=gen) * 0.1)
