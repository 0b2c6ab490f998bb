# Copyright (c) dynamicnet contributors. All rights reserved.
"""tools/model_converters/msdnet_to_dynamicnet.py against the official layout and forward.

``OfficialMSDNet`` below transcribes ``models/msdnet.py`` of ``kalviny/MSDNet-PyTorch`` (commit
f654595; ``args`` as a plain namespace, prints dropped). Its parameter layout must equal the
recorded table ``../shared/specs/official-checkpoints/msdnet_cifar100.tsv``; a random-weight
state dict built from that table is converted, loaded strictly into dynamicnet's model, and both
models must give the same per-exit logits.
"""
import importlib.util
import math
import os.path as osp
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope

from dynamicnet.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _load_converter():
    path = osp.join(ROOT, 'tools', 'model_converters', 'msdnet_to_dynamicnet.py')
    spec = importlib.util.spec_from_file_location('msdnet_to_dynamicnet', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---------------- transcription of the official model ----------------------------------------
class ConvBasic(nn.Module):

    def __init__(self, nIn, nOut, kernel=3, stride=1, padding=1):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(nIn, nOut, kernel_size=kernel, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(nOut), nn.ReLU(True))

    def forward(self, x):
        return self.net(x)


class ConvBN(nn.Module):

    def __init__(self, nIn, nOut, type, bottleneck, bnWidth):
        super().__init__()
        layer = []
        nInner = nIn
        if bottleneck is True:
            nInner = min(nInner, bnWidth * nOut)
            layer.append(nn.Conv2d(nIn, nInner, kernel_size=1, stride=1, padding=0, bias=False))
            layer.append(nn.BatchNorm2d(nInner))
            layer.append(nn.ReLU(True))
        if type == 'normal':
            layer.append(nn.Conv2d(nInner, nOut, kernel_size=3, stride=1, padding=1, bias=False))
        elif type == 'down':
            layer.append(nn.Conv2d(nInner, nOut, kernel_size=3, stride=2, padding=1, bias=False))
        layer.append(nn.BatchNorm2d(nOut))
        layer.append(nn.ReLU(True))
        self.net = nn.Sequential(*layer)

    def forward(self, x):
        return self.net(x)


class ConvDownNormal(nn.Module):

    def __init__(self, nIn1, nIn2, nOut, bottleneck, bnWidth1, bnWidth2):
        super().__init__()
        self.conv_down = ConvBN(nIn1, nOut // 2, 'down', bottleneck, bnWidth1)
        self.conv_normal = ConvBN(nIn2, nOut // 2, 'normal', bottleneck, bnWidth2)

    def forward(self, x):
        res = [x[1], self.conv_down(x[0]), self.conv_normal(x[1])]
        return torch.cat(res, dim=1)


class ConvNormal(nn.Module):

    def __init__(self, nIn, nOut, bottleneck, bnWidth):
        super().__init__()
        self.conv_normal = ConvBN(nIn, nOut, 'normal', bottleneck, bnWidth)

    def forward(self, x):
        if not isinstance(x, list):
            x = [x]
        res = [x[0], self.conv_normal(x[0])]
        return torch.cat(res, dim=1)


class MSDNFirstLayer(nn.Module):

    def __init__(self, nIn, nOut, args):
        super().__init__()
        self.layers = nn.ModuleList()
        if args.data.startswith('cifar'):
            self.layers.append(ConvBasic(nIn, nOut * args.grFactor[0], kernel=3, stride=1,
                                         padding=1))
        elif args.data == 'ImageNet':
            conv = nn.Sequential(
                nn.Conv2d(nIn, nOut * args.grFactor[0], 7, 2, 3),
                nn.BatchNorm2d(nOut * args.grFactor[0]), nn.ReLU(inplace=True),
                nn.MaxPool2d(3, 2, 1))
            self.layers.append(conv)
        nIn = nOut * args.grFactor[0]
        for i in range(1, args.nScales):
            self.layers.append(ConvBasic(nIn, nOut * args.grFactor[i], kernel=3, stride=2,
                                         padding=1))
            nIn = nOut * args.grFactor[i]

    def forward(self, x):
        res = []
        for i in range(len(self.layers)):
            x = self.layers[i](x)
            res.append(x)
        return res


class MSDNLayer(nn.Module):

    def __init__(self, nIn, nOut, args, inScales=None, outScales=None):
        super().__init__()
        self.nIn = nIn
        self.nOut = nOut
        self.inScales = inScales if inScales is not None else args.nScales
        self.outScales = outScales if outScales is not None else args.nScales
        self.nScales = args.nScales
        self.discard = self.inScales - self.outScales
        self.offset = self.nScales - self.outScales
        self.layers = nn.ModuleList()
        if self.discard > 0:
            nIn1 = nIn * args.grFactor[self.offset - 1]
            nIn2 = nIn * args.grFactor[self.offset]
            _nOut = nOut * args.grFactor[self.offset]
            bnWidth1 = args.bnFactor[self.offset - 1]
            bnWidth2 = args.bnFactor[self.offset]
            self.layers.append(ConvDownNormal(nIn1, nIn2, _nOut, args.bottleneck, bnWidth1,
                                              bnWidth2))
        else:
            self.layers.append(ConvNormal(nIn * args.grFactor[self.offset],
                                          nOut * args.grFactor[self.offset], args.bottleneck,
                                          args.bnFactor[self.offset]))
        for i in range(self.offset + 1, self.nScales):
            nIn1 = nIn * args.grFactor[i - 1]
            nIn2 = nIn * args.grFactor[i]
            _nOut = nOut * args.grFactor[i]
            bnWidth1 = args.bnFactor[i - 1]
            bnWidth2 = args.bnFactor[i]
            self.layers.append(ConvDownNormal(nIn1, nIn2, _nOut, args.bottleneck, bnWidth1,
                                              bnWidth2))

    def forward(self, x):
        if self.discard > 0:
            inp = []
            for i in range(1, self.outScales + 1):
                inp.append([x[i - 1], x[i]])
        else:
            inp = [[x[0]]]
            for i in range(1, self.outScales):
                inp.append([x[i - 1], x[i]])
        res = []
        for i in range(self.outScales):
            res.append(self.layers[i](inp[i]))
        return res


class ParallelModule(nn.Module):

    def __init__(self, parallel_modules):
        super().__init__()
        self.m = nn.ModuleList(parallel_modules)

    def forward(self, x):
        res = []
        for i in range(len(x)):
            res.append(self.m[i](x[i]))
        return res


class ClassifierModule(nn.Module):

    def __init__(self, m, channel, num_classes):
        super().__init__()
        self.m = m
        self.linear = nn.Linear(channel, num_classes)

    def forward(self, x):
        res = self.m(x[-1])
        res = res.view(res.size(0), -1)
        return self.linear(res)


class OfficialMSDNet(nn.Module):

    def __init__(self, args):
        super().__init__()
        self.blocks = nn.ModuleList()
        self.classifier = nn.ModuleList()
        self.nBlocks = args.nBlocks
        self.steps = [args.base]
        self.args = args
        n_layers_all, n_layer_curr = args.base, 0
        for i in range(1, self.nBlocks):
            self.steps.append(args.step if args.stepmode == 'even' else args.step * i + 1)
            n_layers_all += self.steps[-1]
        nIn = args.nChannels
        for i in range(self.nBlocks):
            m, nIn = self._build_block(nIn, args, self.steps[i], n_layers_all, n_layer_curr)
            self.blocks.append(m)
            n_layer_curr += self.steps[i]
            if args.data.startswith('cifar100'):
                self.classifier.append(self._build_classifier_cifar(nIn * args.grFactor[-1], 100))
            elif args.data.startswith('cifar10'):
                self.classifier.append(self._build_classifier_cifar(nIn * args.grFactor[-1], 10))
            elif args.data == 'ImageNet':
                self.classifier.append(
                    self._build_classifier_imagenet(nIn * args.grFactor[-1], 1000))

    def _build_block(self, nIn, args, step, n_layer_all, n_layer_curr):
        layers = [MSDNFirstLayer(3, nIn, args)] if n_layer_curr == 0 else []
        for i in range(step):
            n_layer_curr += 1
            inScales = args.nScales
            outScales = args.nScales
            if args.prune == 'min':
                inScales = min(args.nScales, n_layer_all - n_layer_curr + 2)
                outScales = min(args.nScales, n_layer_all - n_layer_curr + 1)
            elif args.prune == 'max':
                interval = math.ceil(1.0 * n_layer_all / args.nScales)
                inScales = args.nScales - math.floor(1.0 * (max(0, n_layer_curr - 2)) / interval)
                outScales = args.nScales - math.floor(1.0 * (n_layer_curr - 1) / interval)
            layers.append(MSDNLayer(nIn, args.growthRate, args, inScales, outScales))
            nIn += args.growthRate
            if args.prune == 'max' and inScales > outScales and args.reduction > 0:
                offset = args.nScales - outScales
                layers.append(self._build_transition(nIn, math.floor(1.0 * args.reduction * nIn),
                                                     outScales, offset, args))
                nIn = math.floor(1.0 * args.reduction * nIn)
            elif args.prune == 'min' and args.reduction > 0 and \
                    ((n_layer_curr == math.floor(1.0 * n_layer_all / 3)) or
                     n_layer_curr == math.floor(2.0 * n_layer_all / 3)):
                offset = args.nScales - outScales
                layers.append(self._build_transition(nIn, math.floor(1.0 * args.reduction * nIn),
                                                     outScales, offset, args))
                nIn = math.floor(1.0 * args.reduction * nIn)
        return nn.Sequential(*layers), nIn

    def _build_transition(self, nIn, nOut, outScales, offset, args):
        net = []
        for i in range(outScales):
            net.append(ConvBasic(nIn * args.grFactor[offset + i], nOut * args.grFactor[offset + i],
                                 kernel=1, stride=1, padding=0))
        return ParallelModule(net)

    def _build_classifier_cifar(self, nIn, num_classes):
        interChannels1, interChannels2 = 128, 128
        conv = nn.Sequential(
            ConvBasic(nIn, interChannels1, kernel=3, stride=2, padding=1),
            ConvBasic(interChannels1, interChannels2, kernel=3, stride=2, padding=1),
            nn.AvgPool2d(2),
        )
        return ClassifierModule(conv, interChannels2, num_classes)

    def _build_classifier_imagenet(self, nIn, num_classes):
        conv = nn.Sequential(
            ConvBasic(nIn, nIn, kernel=3, stride=2, padding=1),
            ConvBasic(nIn, nIn, kernel=3, stride=2, padding=1), nn.AvgPool2d(2))
        return ClassifierModule(conv, nIn, num_classes)

    def forward(self, x):
        res = []
        for i in range(self.nBlocks):
            x = self.blocks[i](x)
            res.append(self.classifier[i](x))
        return res


# ---------------- helpers ---------------------------------------------------------------------
CIFAR100_ARGS = dict(data='cifar100', nBlocks=5, nChannels=16, base=1, stepmode='lin_grow',
                     step=1, growthRate=6, grFactor=[1, 2, 4], bnFactor=[1, 2, 4],
                     bottleneck=True, reduction=0.5, prune='max', nScales=3)


def dynamicnet_cfg(args, num_classes, stem, inter_channels):
    return dict(
        type='dynamicnet.EarlyExitClassifier',
        backbone=dict(
            type='dynamicnet.MSDNet', num_blocks=args.nBlocks, step_mode=args.stepmode,
            step=args.step, base=args.base, channels=args.nChannels,
            growth_rate=args.growthRate, gr_factor=args.grFactor, bn_factor=args.bnFactor,
            bottleneck=args.bottleneck, reduction=args.reduction, prune=args.prune, stem=stem),
        exit_head=dict(type='dynamicnet.MSDNetExitHead', num_classes=num_classes,
                       inter_channels=inter_channels))


def read_tsv(path):
    layout = {}
    with open(path) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            key, shape, dtype = line.rstrip('\n').split('\t')
            layout[key] = (tuple(int(s) for s in shape.strip('()').split(',') if s.strip()),
                           dtype)
    return layout


def random_state_dict(layout, seed=0):
    g = torch.Generator().manual_seed(seed)
    state = {}
    for key, (shape, dtype) in layout.items():
        if dtype == 'int64':
            state[key] = torch.tensor(7, dtype=torch.int64).reshape(shape)
        elif key.endswith('running_var'):
            state[key] = torch.rand(shape, generator=g) + 0.5
        elif key.endswith('running_mean'):
            state[key] = torch.randn(shape, generator=g) * 0.1
        elif len(shape) == 4:
            fan_out = shape[0] * shape[2] * shape[3]
            state[key] = torch.randn(shape, generator=g) * math.sqrt(2.0 / fan_out)
        elif key.endswith('.weight') and len(shape) == 1:
            state[key] = 1 + 0.1 * torch.randn(shape, generator=g)
        else:
            state[key] = 0.1 * torch.randn(shape, generator=g)
    return state


@pytest.fixture(autouse=True)
def _scope(default_scope):
    init_default_scope('mmpretrain')


@pytest.fixture
def layout(official_table):
    return read_tsv(official_table('msdnet_cifar100.tsv'))


def test_official_transcription_has_the_recorded_layout(layout):
    official = OfficialMSDNet(SimpleNamespace(**CIFAR100_ARGS))
    mine = {k: (tuple(v.shape), str(v.dtype).replace('torch.', ''))
            for k, v in official.state_dict().items()}
    assert mine == layout


def test_converted_random_official_weights_load_strictly_and_match_outputs(layout):
    converter = _load_converter()
    state = random_state_dict(layout)
    args = SimpleNamespace(**CIFAR100_ARGS)
    official = OfficialMSDNet(args).eval()
    official.load_state_dict(state, strict=True)

    model = MODELS.build(dynamicnet_cfg(args, 100, 'cifar', 128)).eval()
    converted = converter.convert_msdnet({f'module.{k}': v for k, v in state.items()})
    result = model.load_state_dict(converted, strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert len(converted) == len(layout)

    torch.manual_seed(0)
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ref = official(x)
        out = model(x, mode='tensor')
    assert len(ref) == out.size(0) == 5
    for k in range(5):
        torch.testing.assert_close(out[k], ref[k], rtol=1e-4, atol=1e-4)


def test_imagenet_stem_and_even_steps_convert_and_match():
    converter = _load_converter()
    args = SimpleNamespace(data='ImageNet', nBlocks=2, nChannels=8, base=2, stepmode='even',
                           step=2, growthRate=4, grFactor=[1, 2, 4], bnFactor=[1, 2, 4],
                           bottleneck=True, reduction=0.5, prune='max', nScales=3)
    official = OfficialMSDNet(args).eval()
    layout = {k: (tuple(v.shape), str(v.dtype).replace('torch.', ''))
              for k, v in official.state_dict().items()}
    state = random_state_dict(layout, seed=3)
    official.load_state_dict(state)
    model = MODELS.build(dynamicnet_cfg(args, 1000, 'imagenet', None)).eval()
    result = model.load_state_dict(converter.convert_msdnet(state), strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = torch.randn(1, 3, 128, 128)
    with torch.no_grad():
        ref = official(x)
        out = model(x, mode='tensor')
    for k in range(2):
        torch.testing.assert_close(out[k], ref[k], rtol=1e-4, atol=1e-4)


def test_unknown_keys_are_rejected():
    converter = _load_converter()
    with pytest.raises(KeyError):
        converter.convert_msdnet({'blocks.0.0.something.weight': torch.zeros(1)})


def test_prune_min_variant_converts_and_matches():
    converter = _load_converter()
    args = SimpleNamespace(data='cifar10', nBlocks=3, nChannels=8, base=2, stepmode='even',
                           step=2, growthRate=4, grFactor=[1, 2, 4], bnFactor=[1, 2, 4],
                           bottleneck=True, reduction=0.5, prune='min', nScales=3)
    official = OfficialMSDNet(args).eval()
    layout = {k: (tuple(v.shape), str(v.dtype).replace('torch.', ''))
              for k, v in official.state_dict().items()}
    assert any('.m.' in k for k in layout)  # 'min' inserts transitions at L/3 and 2L/3
    state = random_state_dict(layout, seed=5)
    official.load_state_dict(state)
    model = MODELS.build(dynamicnet_cfg(args, 10, 'cifar', 128)).eval()
    result = model.load_state_dict(converter.convert_msdnet(state), strict=False)
    assert result.missing_keys == [] and result.unexpected_keys == []
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        ref = official(x)
        out = model(x, mode='tensor')
    for k in range(3):
        torch.testing.assert_close(out[k], ref[k], rtol=1e-4, atol=1e-4)
