# Copyright (c) dynamicnet contributors. All rights reserved.
"""tools/analysis_tools/benchmark_condensenetv2.py on a small input: training-time and converted
models (both inference layouts), both clocks, equal outputs, eagerly and as traced graphs."""
import copy
import os.path as osp
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))

import benchmark_condensenetv2  # noqa: E402

from dynamicnet.models.backbones.condensenetv2 import CondenseNetV2Layer  # noqa: E402
from dynamicnet.models.utils.condensenetv2_layers import CONDENSING_LAYERS  # noqa: E402


def test_benchmark_times_both_models_and_compares_outputs(capsys):
    args = benchmark_condensenetv2.parse_args(
        ['--arch', 'a', '--input-size', '64', '--batch-sizes', '1', '2', '--warmup', '0',
         '--repeats', '1'])
    rows = benchmark_condensenetv2.run(args)
    assert [r['batch'] for r in rows] == [1, 2]
    for row in rows:
        assert all(row[f'{clock}_{model}'] > 0 for clock in ('wall', 'cpu')
                   for model in ('train', 'conv', 'conv_fused', 'conv_layerwise', 'bound'))
        # One round: the speed-up is that round's ratio (the baseline's own is exactly 1).
        for clock in ('wall', 'cpu'):
            assert row[f'speedup_{clock}_train'] == 1.0
            assert row[f'speedup_{clock}_conv'] == pytest.approx(
                row[f'{clock}_train'] / row[f'{clock}_conv'])
        # Random weights, BN statistics and SFR gamma: the converted model gives the same output.
        assert row['logits_diff'] <= 1e-5 * row['logits_max']
        assert row['feature_diff'] <= 1e-5 * row['feature_max']
    out = capsys.readouterr().out
    assert 'MACs (official rules)     5.26M' in out and 'CPU ms' in out
    # --keep-freed-memory is not given (it would change this test process's allocator for good)
    assert out.splitlines()[0].endswith('eager mode, allocator: system defaults')
    assert all(row['graph_diff'] == 0 for row in rows)  # eager: the timed models themselves


def test_bound_is_the_network_with_zero_products_and_no_fused_norm():
    model = benchmark_condensenetv2.build('a', seed=0)
    bound = benchmark_condensenetv2.skip_condensing_products(model)
    # The same function as the training-time network with every mask zeroed (LGC and SFR give 0)
    # and the BN after each LGC removed; the model itself keeps its products.
    reference = copy.deepcopy(model)
    for module in reference.modules():
        if isinstance(module, CONDENSING_LAYERS):
            module._mask.zero_()
        elif isinstance(module, CondenseNetV2Layer):
            module.conv_2.norm = torch.nn.Identity()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(bound(x, mode='tensor'), reference(x, mode='tensor'))
        assert (model(x, mode='tensor') - bound(x, mode='tensor')).abs().max() > 1e-3
    layers = [m for m in model.modules() if isinstance(m, CONDENSING_LAYERS)]
    assert len(layers) == 40 and all(isinstance(m.conv, torch.nn.Conv2d) for m in layers)


def test_graph_mode_traces_each_model_with_the_eager_outputs():
    model = benchmark_condensenetv2.build('a', seed=0)
    converted = copy.deepcopy(model)
    converted.backbone.switch_to_deploy()
    for batch in (1, 2):  # traced per batch size: the layers branch on it in Python
        x = torch.randn(batch, 3, 32, 32, generator=torch.Generator().manual_seed(batch))
        with torch.no_grad():
            eager = converted(x, mode='tensor')
            traced = benchmark_condensenetv2.compile_graph(converted, x, 'freeze')
            assert isinstance(traced, torch.jit.ScriptModule)
            # The channel-major inference path and the batch size of x are what was traced.
            torch.testing.assert_close(traced(x), eager, rtol=0, atol=1e-5)
            torch.testing.assert_close(traced(x), model(x, mode='tensor'), rtol=0, atol=1e-5)


def test_compile_mode_gives_the_eager_outputs():
    # aot_eager: the same dynamo graphs and functionalisation as Inductor, without a C++ compiler.
    model = benchmark_condensenetv2.build('a', seed=0)
    converted = copy.deepcopy(model)
    converted.backbone.switch_to_deploy()
    converted.backbone.fuse_norm()
    x = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    for m in (model, converted):
        compiled = benchmark_condensenetv2.compile_graph(m, x, 'compile', backend='aot_eager')
        with torch.no_grad():
            torch.testing.assert_close(compiled(x), m(x, mode='tensor'), rtol=0, atol=1e-5)
