# Copyright (c) dynamicnet contributors. All rights reserved.
"""benchmark_early_exit.py: exits and MACs as the evaluator counts them, timing arithmetic."""
import importlib.util
import math
import os.path as osp
from types import SimpleNamespace

import pytest

from dynamicnet.engine.runners import load_config

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MSDNET = osp.join(ROOT, 'configs', 'msdnet', 'msdnet-b3_1xb16_tiny-imagenet.py')
GFNET = osp.join(ROOT, 'configs', 'gfnet', 'gfnet-r18_p16-t3_stage3_1xb16_tiny-imagenet.py')


@pytest.fixture(scope='module')
def tool():
    path = osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_early_exit.py')
    spec = importlib.util.spec_from_file_location('benchmark_early_exit', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fraction_exits_and_macs_saving_follow_the_exit_costs(tool, capsys):
    [(name, result)] = tool.main(
        [MSDNET, '--fraction', '0.25', '0.5', '--batch-size', '16', '--repeat', '1',
         '--system-allocator'])
    assert name == 'msdnet-b3_1xb16_tiny-imagenet'
    costs = result['costs']
    for row, exited in zip(result['rows'], (4, 8)):
        # floor(f B) leave at exit 1, the rest pay F_K: saving = f (1 - F_1 / F_K)
        assert row['exited'] == exited
        assert row['macs_saving'] == pytest.approx(exited / 16 * (1 - costs[0] / costs[-1]))
        assert row['ratio'] == pytest.approx(row['time_saving'] / row['macs_saving'])
    assert result['later_macs_share'] == pytest.approx(1 - costs[0] / costs[-1])
    assert 0 < result['later_time_share'] < 1
    assert result['predicted_ratio'] == pytest.approx(
        result['later_time_share'] / result['later_macs_share']
        * (1 - result['later_fixed_share']))
    assert result['page_faults'] >= 0 and result['page_faults_exit1'] >= 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == 'allocator: system defaults'
    faults_line = (f'minor page faults per call: full network {result["page_faults"]}, stage 1 '
                   'alone' if tool.page_faults_counted() else
                   'minor page faults per call: not counted by this kernel')
    assert any(line.startswith(faults_line) for line in lines)
    assert lines[-1].startswith('time saving / MACs saving (wall')
    assert lines[-1].endswith(f'{name} ' + ' '.join(f'{r["ratio"]:.2f}'
                                                    for r in result['rows']))


def test_fixed_share_and_paired_ratio(tool):
    # t(n) = 2 + 0.5 n: at n = 16 a fifth of the time does not depend on the batch
    assert tool.fixed_share(t_big=10.0, t_small=4.0, big=16, small=4) == pytest.approx(0.2)
    # a slow round (the second) slows both of its runs: pairing within rounds cancels it, the
    # ratio of the medians (4 / 6) would not
    assert tool.paired_ratio([1.0, 4.0, 5.0], [2.0, 8.0, 6.0]) == 0.5
    assert math.isclose(tool.paired_ratio([3.0], [4.0]), 0.75)


def test_one_checkpoint_per_config(tool):
    with pytest.raises(SystemExit):
        tool.parse_args([MSDNET, MSDNET, '--checkpoint', 'a.pth'])
    with pytest.raises(SystemExit):
        tool.parse_args([MSDNET, MSDNET, MSDNET, '--batch-size', '8', '16'])


def test_batch_size_from_the_command_then_the_config_then_128(tool, capsys):
    [(_, result)] = tool.main([
        MSDNET, '--fraction', '0.5', '--repeat', '1', '--cfg-options',
        'model.test_cfg.benchmark_batch_size=8'
    ])
    assert result['rows'][0]['exited'] == 4  # half of the config's batch of 8
    assert 'batch 8 (test_cfg.benchmark_batch_size)' in capsys.readouterr().out
    model = SimpleNamespace(test_cfg=dict(benchmark_batch_size=1024))
    assert tool.benchmark_batch(model, tool.parse_args([MSDNET]), 0) == (
        1024, 'test_cfg.benchmark_batch_size')
    args = tool.parse_args([MSDNET, MSDNET, '--batch-size', '16', '32'])
    assert tool.benchmark_batch(model, args, 1) == (32, '--batch-size')
    assert tool.benchmark_batch(SimpleNamespace(test_cfg={}), tool.parse_args([MSDNET]),
                                0) == (128, 'default')
    # the tiny GFNet is timed at 1024 (its focus steps' per-call time dominates at 128)
    assert load_config(GFNET).model.test_cfg.benchmark_batch_size == 1024
