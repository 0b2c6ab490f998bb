# Copyright (c) dynamicnet contributors. All rights reserved.
"""MSDNet backbone: layer plan, scale shapes, per-exit MACs (dynamic-inference.md §3.1, §5)."""
import pytest
import torch
import torch.nn as nn
from mmengine.registry import init_default_scope
from torch.utils.flop_counter import FlopCounterMode

from dynamicnet.models.backbones.msdnet import MSDNet, _MaxPool2d, msdnet_layer_plan
from dynamicnet.registry import MODELS


@pytest.fixture(autouse=True)
def _scope(default_scope):
    init_default_scope('mmpretrain')


def cifar100_budgeted(num_classes=100):
    return MODELS.build(
        dict(
            type='dynamicnet.EarlyExitClassifier',
            backbone=dict(type='dynamicnet.MSDNet', num_blocks=5, step_mode='lin_grow', step=1,
                          base=1, channels=16, growth_rate=6, gr_factor=(1, 2, 4),
                          bn_factor=(1, 2, 4), stem='cifar'),
            exit_head=dict(type='dynamicnet.MSDNetExitHead', num_classes=num_classes,
                           inter_channels=128))).eval()


def test_layer_plan_of_the_cifar100_budgeted_model():
    plan = msdnet_layer_plan(5, 'lin_grow', 1, 1, 3, 'max', 0.5)
    assert [sum(e[0] == 'msd' for e in block) for block in plan] == [1, 2, 3, 4, 5]
    # 15 layers, a scale is dropped every ceil(15/3) = 5 layers, each followed by a transition
    assert plan[2] == [('msd', 3, 3), ('msd', 3, 3), ('msd', 3, 2), ('transition', 2)]
    assert plan[4][:2] == [('msd', 2, 1), ('transition', 1)]
    even = msdnet_layer_plan(5, 'even', 4, 4, 4, 'max', 0.5)
    assert [sum(e[0] == 'msd' for e in block) for block in even] == [4] * 5


def test_stage_outputs_scales_and_exit_channels():
    model = cifar100_budgeted()
    x = torch.randn(2, 3, 32, 32)
    feats = x
    expected_scales = [3, 3, 2, 2, 1]
    for k in range(5):
        feats = model.backbone.forward_stage(k, feats)
        assert len(feats) == expected_scales[k]
        assert feats[-1].shape[1] == model.backbone.exit_channels[k]
        assert feats[-1].shape[2:] == (8, 8)  # coarsest scale of a 32x32 input
    assert [f.shape[2] for f in model.backbone.forward_stage(0, x)] == [32, 16, 8]
    # transitions halve the width: 16 + 6*6 = 52 -> 26 after layer 6, 26 + 6*5 = 56 -> 28
    assert model.backbone.exit_channels == [(16 + 6) * 4, (16 + 18) * 4, 26 * 4,
                                            (26 + 24) * 4, (28 + 24) * 4]
    out = model(x, mode='tensor')
    assert out.shape == (5, 2, 100)


def test_exit_costs_match_torch_flop_counter():
    model = cifar100_budgeted()
    costs = model.exit_costs((3, 32, 32))
    assert all(b > a for a, b in zip(costs, costs[1:]))
    state = torch.zeros(1, 3, 32, 32)
    total = 0
    for k in range(5):
        with FlopCounterMode(display=False) as counter:
            _, state = model.forward_stage(k, state)
        total += counter.get_total_flops() // 2
        assert costs[k] == total


def _official_op_counter_per_exit(model: nn.Module, size: int) -> list:
    """MSDNet's ``op_counter.py`` rules, cumulative at each Linear (= each exit): conv MACs,
    ReLU 1/element, pooling kernel^2 per output element, Linear weight + bias."""
    ops, per_exit = [0.0], []

    def hook(module, inputs, output):
        x = inputs[0]
        if isinstance(module, nn.Conv2d):
            ops[0] += (module.in_channels * module.out_channels * module.kernel_size[0]
                       * module.kernel_size[1] * output.shape[2] * output.shape[3]
                       / module.groups)
        elif isinstance(module, nn.ReLU):
            ops[0] += x.numel() / x.size(0)
        elif isinstance(module, (nn.AvgPool2d, nn.MaxPool2d)):
            kernel = module.kernel_size
            ops[0] += x.size(1) * output.shape[2] * output.shape[3] * kernel * kernel
        elif isinstance(module, nn.Linear):
            ops[0] += module.weight.numel() + module.bias.numel()
            per_exit.append(ops[0])

    handles = [m.register_forward_hook(hook) for m in model.modules()
               if isinstance(m, (nn.Conv2d, nn.ReLU, nn.AvgPool2d, nn.MaxPool2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 3, size, size), mode='tensor')
    for h in handles:
        h.remove()
    return per_exit


def test_released_imagenet_model_matches_the_official_per_exit_flops():
    """Anchor (official issue MSDNet#10): the released step=7 ImageNet model costs
    615.7M / 1436.4M / 2283.2M / 2967.4M / 3253.8M FLOPs by the repository's counter (~4 s)."""
    model = MODELS.build(
        dict(
            type='dynamicnet.EarlyExitClassifier',
            backbone=dict(type='dynamicnet.MSDNet', num_blocks=5, step_mode='even', step=7,
                          base=7, channels=32, growth_rate=16, gr_factor=(1, 2, 4, 4),
                          bn_factor=(1, 2, 4, 4), stem='imagenet'),
            exit_head=dict(type='dynamicnet.MSDNetExitHead', num_classes=1000,
                           inter_channels=None))).eval()
    per_exit = _official_op_counter_per_exit(model, 224)
    anchors = [615.7e6, 1436.4e6, 2283.2e6, 2967.4e6, 3253.8e6]
    assert [round(got / 1e6, 1) for got in per_exit] == [a / 1e6 for a in anchors]
    # dynamicnet's default per-exit cost counts conv + linear MACs only (no ReLU/pooling/bias ops)
    costs = model.exit_costs((3, 224, 224))
    assert [round(c / 1e6, 1) for c in costs] == [612.0, 1430.8, 2276.4, 2959.9, 3246.2]
    # the 'condensenet' rule set (the MSDNet configs' cost_rules) gives the official numbers
    model.test_cfg['cost_rules'] = 'condensenet'
    costs = model.exit_costs((3, 224, 224))
    assert [round(c / 1e6, 1) for c in costs] == [a / 1e6 for a in anchors]
    assert all(0 < p - c <= 1000 * (k + 1) for k, (p, c) in enumerate(zip(per_exit, costs)))


def test_stem_pooling_through_channels_last_is_exact():
    x = torch.randn(2, 8, 15, 14)
    out = _MaxPool2d(3, 2, 1)(x)
    assert out.is_contiguous()
    assert torch.equal(out, nn.MaxPool2d(3, 2, 1)(x))


def test_bad_arguments():
    with pytest.raises(ValueError):
        MSDNet(gr_factor=(1, 2), bn_factor=(1, 2, 4))
    with pytest.raises(ValueError):
        MSDNet(stem='cityscapes')
    with pytest.raises(ValueError):
        msdnet_layer_plan(3, 'even', 1, 1, 3, 'middle', 0.5)
