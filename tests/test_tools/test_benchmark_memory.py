# Copyright (c) dynamicnet contributors. All rights reserved.
"""tools/analysis_tools/benchmark_memory.py: the CPU allocator peak, ratios, and peak vs. K."""
import os.path as osp
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(ROOT, 'tools', 'analysis_tools'))
CONFIGS = osp.join(ROOT, 'configs', 'infopro')

import benchmark_memory  # noqa: E402


def test_cpu_step_peak_counts_live_allocations():
    def step():
        a = torch.ones(256, 1024)  # 1 MiB
        b = torch.ones(512, 1024)  # 2 MiB, both alive: 3 MiB
        del a, b
        c = torch.ones(128, 1024)  # 0.5 MiB after the frees
        del c

    peak = benchmark_memory.cpu_step_peak(step)
    assert 3 * 2**20 <= peak < 3 * 2**20 + 64 * 1024


def test_peak_memory_falls_as_k_grows(capsys):
    configs = [osp.join(CONFIGS, name) for name in (
        'resnet32_1xb1024_cifar10.py',
        'resnet32-infopro-k2-contrast_1xb1024_cifar10.py',
        'resnet32-infopro-k4-contrast_1xb1024_cifar10.py',
        'resnet32-infopro-k8-contrast_1xb1024_cifar10.py',
    )]
    args = benchmark_memory.parse_args(
        [*configs, '--batch-size', '16', '--warmup', '1', '--checkpoint-modules',
         '--device', 'cpu'])
    rows = benchmark_memory.run(args)
    plain = [r for r in rows if not r['checkpoint']]
    assert [r['K'] for r in plain] == [1, 2, 4, 8]
    assert plain[0]['end_to_end'] and plain[0]['ratio_total'] == pytest.approx(1.0)
    peaks = [r['step_peak_mb'] for r in plain]
    assert all(a > b for a, b in zip(peaks, peaks[1:])), peaks
    assert plain[2]['ratio_step_peak'] < 0.6
    # checkpointing inside the modules lowers each InfoPro row further
    ckpt = {r['K']: r for r in rows if r['checkpoint']}
    assert set(ckpt) == {2, 4, 8}
    for row in plain[1:]:
        assert ckpt[row['K']]['step_peak_mb'] < row['step_peak_mb']
    out = capsys.readouterr().out
    assert 'total/E2E' in out and 'Baseline (E2E twin)' in out
    assert 'torch.profiler(profile_memory=True)' in out


def test_no_baseline_means_no_ratios(capsys):
    config = osp.join(CONFIGS, 'resnet32-infopro-k2-contrast_1xb1024_cifar10.py')
    rows = benchmark_memory.run(benchmark_memory.parse_args(
        [config, '--batch-size', '4', '--warmup', '0', '--device', 'cpu']))
    assert rows[0]['ratio_total'] is None
    assert 'ratios omitted' in capsys.readouterr().out
