# Copyright (c) dynamicnet contributors. All rights reserved.
"""CondenseNetV2 invariants (spec ``../shared/specs/condensenetv2.md`` §10)."""
import copy
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.model import ExponentialMovingAverage

from dynamicnet.models.backbones import CondenseNetV2
from dynamicnet.models.utils.condensenetv2_ema import CondenseNetV2EMA
from dynamicnet.models.utils.condensenetv2_layers import (AvgPool2x2, CondensedLGC,
                                                          CondensedSFR, LearnedGroupConv,
                                                          SparseFeatureReactivation,
                                                          condensation_stage)

from condensenetv2_official_ref import randomize_  # noqa: E402 (sibling helper)


def _model(arch='a', **kwargs):
    torch.manual_seed(0)
    model = CondenseNetV2(arch=arch, **kwargs)
    model.init_weights()
    return model


@pytest.mark.parametrize('arch,channels', [
    ('a', [24, 32, 96, 288, 800]),
    ('b', [24, 72, 216, 600, 1176]),
    ('c', [48, 144, 400, 1040, 2064]),
    ('cifar-110', [160, 448, 1024]),
    ('cifar-146', [208, 592, 1360]),
])
def test_block_channels_and_strides(arch, channels):
    model = CondenseNetV2(arch=arch, out_indices=tuple(range(len(channels))), deploy=True)
    assert model.out_channels == channels
    size = 64 if arch in 'abc' else 32
    with torch.no_grad():
        outs = model.eval()(torch.randn(1, 3, size, size))
    assert [o.shape[1] for o in outs] == channels
    stride0 = 2 if arch in 'abc' else 1
    assert [size // o.shape[2] for o in outs] == [stride0 * 2**i for i in range(len(channels))]


def test_layer_structure_a():
    model = CondenseNetV2(arch='a')
    layer = model.stages[4][7]  # last layer of block 5: c_in 736, k 64
    assert isinstance(layer.conv_1, LearnedGroupConv)
    assert layer.conv_1.conv.weight.shape == (256, 736, 1, 1)
    assert layer.conv_2.conv.weight.shape == (64, 32, 3, 3)  # 3x3 group conv, G = 8
    assert layer.sfr.conv.weight.shape == (736, 64, 1, 1)
    assert layer.se is not None and model.stages[2][0].se is None  # SE from block 4 on
    assert isinstance(model.stages[1][0].conv_1.act, nn.ReLU)
    assert isinstance(model.stages[2][0].conv_1.act, nn.Hardswish)  # h-swish from block 3 on
    assert isinstance(model.stages[2][0].sfr.act, nn.Hardswish)


def test_sfr_output_zero_at_init():
    model = _model('a').train()
    outputs = []
    hooks = [m.register_forward_hook(lambda m, i, o: outputs.append(o))
             for m in model.modules() if isinstance(m, SparseFeatureReactivation)]
    model(torch.randn(2, 3, 64, 64))
    for h in hooks:
        h.remove()
    assert len(outputs) == 20
    assert all(torch.equal(o, torch.zeros_like(o)) for o in outputs)


def test_schedule_stages():
    # C = 8: events at p = s / 14 for s = 1..6, and at p = 0.5.
    assert [condensation_stage(p, 8) for p in (0.0, 0.07, 1 / 14 + 1e-6, 0.49, 0.5, 0.9)] == \
        [0, 0, 1, 6, 7, 7]
    # C = 6: 2p crosses (i + 1) / 5.
    assert condensation_stage(0.29, 6) == 2 and condensation_stage(0.31, 6) == 3


@pytest.mark.parametrize('arch', ['a', 'b'])
def test_condensation_events_and_kept_inputs(arch):
    model = _model(arch)
    C = model.condense_factor
    events = []
    for it in range(201):
        n = model.set_progress(it / 200)
        if n:
            events.append((it / 200, n))
    assert len(events) == C - 1 and all(n == 1 for _, n in events)
    assert events[-1][0] == 0.5
    assert [p for p, _ in events[:-1]] == [
        min(i / 200 for i in range(201) if i / 200 * 2 >= s / (C - 1)) for s in range(1, C - 1)]
    for name, m in model.condensing_layers():
        want = m.num_candidates // C
        assert m.kept_per_group() == [want] * model.groups, name
        assert m.stage == C - 1 and int(m._count.item()) == m.num_candidates - want
        assert set(m._mask.unique().tolist()) == {0.0, 1.0}
    lgc = model.stages[-1][-1].conv_1
    # LGC: every output of a group reads the same inputs (rows g::G equal).
    for g in range(model.groups):
        rows = lgc._mask[g::model.groups, :, 0, 0]
        assert torch.equal(rows, rows[:1].expand_as(rows))
    sfr = model.stages[-1][-1].sfr
    for g in range(model.groups):
        cols = sfr._mask[:, g::model.groups, 0, 0]
        assert torch.equal(cols, cols[:, :1].expand_as(cols))


def test_jump_drops_every_missed_chunk():
    model = _model('a')
    assert model.set_progress(0.0) == 0
    assert model.set_progress(0.6) == 7
    assert model.is_fully_condensed()
    stepped = _model('a')
    for p in (0.1, 0.2, 0.3, 0.4, 0.5):
        stepped.set_progress(p)
    # Same weights, same final masks whether the schedule jumps or steps (ranking is unchanged
    # by the order of drops while the weights are fixed).
    for (_, a), (_, b) in zip(model.condensing_layers(), stepped.condensing_layers()):
        assert torch.equal(a._mask, b._mask)


def test_lgc_drops_least_important_inputs():
    torch.manual_seed(0)
    lgc = LearnedGroupConv(16, 8, groups=2, condense_factor=4, act_cfg=dict(type='ReLU'))
    with torch.no_grad():
        lgc.conv.weight.copy_(torch.rand(8, 16, 1, 1) + 1)
        lgc.conv.weight[0::2, 3] = 0.01  # group 0 does not need input 3
        lgc.conv.weight[0::2, 9] = 0.02
        lgc.conv.weight[0::2, 12] = 0.03
        lgc.conv.weight[0::2, 5] = 0.04
    lgc.set_progress(1 / 6 + 1e-6)  # stage 1: one chunk of 16 / 4 = 4 inputs per group
    assert lgc._mask[0::2, [3, 9, 12, 5]].sum() == 0
    assert lgc.kept_per_group() == [12, 12]


def test_two_instances_condense_independently():
    a, b = _model('a'), _model('a')
    a.set_progress(0.3)
    assert all(m.stage == 0 and bool((m._mask == 1).all()) for _, m in b.condensing_layers())
    assert all(m.stage == condensation_stage(0.3, 8) for _, m in a.condensing_layers())
    b.set_progress(0.1)
    assert all(m.stage == 1 for _, m in b.condensing_layers())
    assert all(m.stage == 4 for _, m in a.condensing_layers())


def _equivalence(arch, size, sfr_gamma, seed):
    torch.manual_seed(seed)
    model = CondenseNetV2(arch=arch, out_indices=(1, 2, 3, 4) if arch in 'abc' else (0, 1, 2))
    model.init_weights()
    C = model.condense_factor
    # Condense with weights that change between events, so every event re-ranks.
    for s in range(1, C):
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Conv2d):
                    m.weight.add_(torch.randn_like(m.weight) * 0.05)
        model.set_progress(s / (2 * (C - 1)) + 1e-9)
    assert model.is_fully_condensed()
    randomize_(model, seed=seed, sfr_gamma=sfr_gamma)
    model.eval()
    x = torch.randn(2, 3, size, size)
    with torch.no_grad():
        y_train = model(x)
        deploy = copy.deepcopy(model)
        deploy.switch_to_deploy()
        y_conv = deploy(x)
    return model, deploy, y_train, y_conv


@pytest.mark.parametrize('arch,size', [('a', 64), ('b', 64), ('cifar-110', 32)])
def test_conversion_equivalence(arch, size):
    model, deploy, y_train, y_conv = _equivalence(arch, size, sfr_gamma=0.5, seed=1)
    for a, b in zip(y_train, y_conv):
        # Deep stages reach |y| ~ 100 with random BN statistics: compare on the output's scale
        # (float32 summation-order noise), and exactly in float64 below.
        scale = a.abs().max()
        assert scale > 0.1
        torch.testing.assert_close(b / scale, a / scale, atol=1e-5, rtol=1e-4)
    x = torch.randn(2, 3, size, size, dtype=torch.float64)
    with torch.no_grad():
        for a, b in zip(model.double()(x), deploy.double()(x)):
            torch.testing.assert_close(b, a, atol=1e-10, rtol=1e-10)
    model.float()
    # No masks, grouped convolutions with groups = G, fewer parameters.
    assert not any(n.endswith(('_mask', '_count', '_stage')) for n, _ in deploy.named_buffers())
    assert not any(isinstance(m, (LearnedGroupConv, SparseFeatureReactivation))
                   for m in deploy.modules())
    condensed = [m for m in deploy.modules() if isinstance(m, (CondensedLGC, CondensedSFR))]
    assert condensed and all(m.conv.groups == model.groups for m in condensed)
    n_train = sum(p.numel() for p in model.parameters())
    n_conv = sum(p.numel() for p in deploy.parameters())
    assert n_conv < n_train
    # The 1x1 conv weights shrink exactly by C.
    dense = sum(m.conv.weight.numel() for _, m in model.condensing_layers())
    assert sum(m.conv.weight.numel() for m in condensed) * model.condense_factor == dense


def test_channel_major_inference_equals_layerwise():
    # deploy=True without autograd computes each block in one (C, B, H, W) buffer; with
    # channel_major=False or with autograd the layers run one by one on (B, C, H, W) tensors.
    _, deploy, _, _ = _equivalence('a', 64, sfr_gamma=0.5, seed=2)
    x = torch.randn(3, 3, 64, 64)
    layerwise = copy.deepcopy(deploy)
    layerwise.channel_major = False
    for mode in ('eval', 'train'):  # train: batch statistics over the same B * H * W values
        getattr(deploy, mode)()
        getattr(layerwise, mode)()
        with torch.no_grad():
            fast, slow = deploy(x), layerwise(x)
        for a, b in zip(fast, slow):
            assert a.is_contiguous() and a.shape == b.shape
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)
    deploy.eval()
    with torch.no_grad():
        fast = deploy(x)
    with_grad = deploy(x)  # autograd: the layerwise path
    assert with_grad[0].requires_grad
    for a, b in zip(fast, with_grad):
        torch.testing.assert_close(a, b.detach(), atol=1e-5, rtol=1e-5)


def test_fuse_norm():
    _, deploy, _, y_conv = _equivalence('b', 64, sfr_gamma=0.5, seed=3)
    fused = copy.deepcopy(deploy)
    fused.fuse_norm()
    assert fused.norm_fused
    assert not any(isinstance(layer.conv_2.norm, nn.BatchNorm2d)
                   for stage in fused.stages for layer in stage)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        ref = deploy(x)
        outs = [fused(x)]
        fused.channel_major = False
        outs.append(fused(x))
    outs.append(fused(x))  # autograd
    for out in outs:
        for a, b in zip(ref, out):
            scale = a.abs().max()
            torch.testing.assert_close(b.detach() / scale, a / scale, atol=1e-5, rtol=1e-4)
    # Fused checkpoints load into CondenseNetV2(deploy=True, norm_fused=True).
    rebuilt = CondenseNetV2(arch='b', out_indices=(1, 2, 3, 4), deploy=True, norm_fused=True)
    rebuilt.load_state_dict(fused.state_dict())
    with torch.no_grad():
        for a, b in zip(outs[0], rebuilt.eval()(x)):
            torch.testing.assert_close(b, a)
    with pytest.raises(ValueError, match='switch_to_deploy first'):
        _model('a').fuse_norm()


def test_converted_network_compiles():
    # torch.compile's functionalisation (any backend; aot_eager needs no C++ compiler) traces
    # the channel-major path and the fused shuffle-with-bias, and gives the eager outputs.
    torch.manual_seed(0)
    model = CondenseNetV2(arch=dict(stages=(1, 2), growth=(8, 16), groups=4, condense_factor=4,
                                    stem_stride=1), out_indices=(0, 1))
    model.init_weights()
    model.set_progress(1.0)
    randomize_(model, seed=0, sfr_gamma=0.5)
    model.switch_to_deploy()
    model.fuse_norm()
    model.eval()
    x = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        expected = model(x)
        compiled = torch.compile(model, backend='aot_eager', fullgraph=True)(x)
    for a, b in zip(compiled, expected):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize('size', [9, 64])
def test_one_output_per_group_conv_is_the_grouped_conv(size):
    # 32 -> 8 channels in 8 groups: computed as depthwise + group sum on CPU; at 64x64 one image
    # is 2**17 elements, so 5 images run as chunks of 2, 2 and 1.
    layer = _model('a').stages[0][0].conv_2.conv
    assert layer.out_channels == layer.groups == 8
    x = torch.randn(5, 32, size, size, requires_grad=True)
    ref = nn.functional.conv2d(x, layer.weight, None, 1, 1, 1, layer.groups)
    out = layer(x)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    grad = torch.randn_like(out)
    (out * grad).sum().backward()
    expected = torch.autograd.grad((ref * grad).sum(), x)[0]
    torch.testing.assert_close(x.grad, expected, atol=1e-5, rtol=1e-5)
    assert layer(x[:0]).shape == (0, 8, size, size)  # an empty batch (e.g. no image left)


def test_conversion_requires_full_condensation():
    model = _model('a')
    model.set_progress(0.3)
    with pytest.raises(ValueError, match='not fully condensed'):
        model.switch_to_deploy()


def test_ema_keeps_masks_binary():
    model = _model('a')
    ema = CondenseNetV2EMA(model, momentum=0.5, update_buffers=True)
    plain = ExponentialMovingAverage(model, momentum=0.5, update_buffers=True)
    for p in (0.0, 0.1, 0.2, 0.3):
        model.set_progress(p)
        ema.update_parameters(model)
        plain.update_parameters(model)
    for name, buf in ema.module.named_buffers():
        if name.endswith('_mask'):
            assert set(buf.unique().tolist()) <= {0.0, 1.0}
            torch.testing.assert_close(buf, dict(model.named_buffers())[name])
    # mmengine's plain EMA with update_buffers=True averages the masks (pitfall 6).
    assert any(
        not set(b.unique().tolist()) <= {0.0, 1.0}
        for n, b in plain.module.named_buffers() if n.endswith('_mask'))
    # The EMA copy never condenses by itself.
    assert ema.module.set_progress(0.3) == 0


@pytest.mark.parametrize('shape', [(2, 5, 8, 8), (2, 5, 7, 9), (1, 3, 3, 2)])
def test_transition_pool_equals_avg_pool(shape):
    # The transition's strided-addition pooling is nn.AvgPool2d(2, 2), values and gradients.
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    y, ref = AvgPool2x2()(x), nn.functional.avg_pool2d(x, 2, 2)
    torch.testing.assert_close(y, ref, atol=1e-12, rtol=0)
    g = torch.randn_like(ref)
    torch.testing.assert_close(
        torch.autograd.grad(y, x, g)[0], torch.autograd.grad(ref, x, g)[0], atol=1e-12, rtol=0)
    assert isinstance(CondenseNetV2(arch='a').transition, nn.AvgPool2d)  # counted as pooling


def test_frozen_stages_and_norm_eval():
    model = CondenseNetV2(arch='a', frozen_stages=2, norm_eval=True).train()
    assert not any(p.requires_grad for p in model.stem.parameters())
    assert not any(p.requires_grad for p in model.stages[1].parameters())
    assert all(p.requires_grad for p in model.stages[2].parameters())
    assert not any(m.training for m in model.modules() if isinstance(m, nn.BatchNorm2d))


def test_bad_arch():
    with pytest.raises(KeyError):
        CondenseNetV2(arch='d')
    with pytest.raises(ValueError, match='divisible'):
        CondenseNetV2(arch=dict(stages=(1, ), growth=(6, ), groups=4, condense_factor=4,
                                stem_stride=1))


@pytest.mark.parametrize('name,size', [
    ('condensenetv2-a_8xb128_in1k.py', 64), ('condensenetv2-b_8xb128_in1k.py', 64),
    ('condensenetv2-c_8xb128_in1k.py', 64), ('condensenetv2-a-deploy_8xb128_in1k.py', 64),
    ('condensenetv2-c-deploy_8xb128_in1k.py', 64), ('condensenetv2-110_1xb64_cifar10.py', 32),
    ('condensenetv2-110_1xb64_cifar100.py', 32), ('condensenetv2-146_1xb64_cifar10.py', 32),
    ('condensenetv2-146_1xb64_cifar100.py', 32), ('condensenetv2-a_1xb16_tiny-imagenet.py', 32)
])
def test_classification_configs_build(name, size, default_scope):
    from mmengine.config import Config

    from dynamicnet.registry import MODELS
    cfg = Config.fromfile(str(Path(__file__).resolve().parents[3] / 'configs' / 'condensenetv2' /
                              name))
    default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model).eval()
    assert cfg.model.head.in_channels == model.backbone.out_channels[-1]
    assert model.backbone.deploy == ('deploy' in name)
    with torch.no_grad():
        logits = model(torch.randn(2, 3, size, size), mode='tensor')
    assert logits.shape == (2, cfg.model.head.num_classes)
    if 'in1k' in name and 'deploy' not in name:
        hooks = [h['type'] for h in cfg.custom_hooks]
        assert hooks == ['dynamicnet.CondensationHook', 'EMAHook']
        assert cfg.custom_hooks[1].ema_type == 'dynamicnet.CondenseNetV2EMA'
        assert cfg.optim_wrapper.optimizer.lr == 0.4 and cfg.train_cfg.max_epochs == 350
