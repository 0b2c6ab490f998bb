# Copyright (c) dynamicnet contributors. All rights reserved.
"""tools/analysis_tools/benchmark_isda.py on small problems: it checks equality with the official
per-sample formulation and reports time, memory and FLOP-bound lines for both."""
import argparse
import importlib.util
import os.path as osp
import re

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(scope='module')
def bench():
    spec = importlib.util.spec_from_file_location(
        'benchmark_isda', osp.join(ROOT, 'tools', 'analysis_tools', 'benchmark_isda.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize('covariance', ['full', 'diagonal'])
def test_small_settings(bench, covariance, monkeypatch):
    monkeypatch.setitem(bench.SETTINGS, 'small', (covariance, 6, 24, 32))
    args = argparse.Namespace(seed=0, lambda0=0.5, repeat=1, bound_repeat=1, skip_per_sample=[])
    lines = bench.bench_setting('small', args, torch.device('cpu'))
    assert 'equal outputs: yes' in lines[0]
    speed = float(re.search(r'speed-up\s+([\d.]+)x', lines[1]).group(1))
    memory = float(re.search(r'ratio\s+([\d.]+)x', lines[2]).group(1))
    assert speed > 0 and memory > 1            # the per-sample path allocates N x C x A at least
    distinct = int(re.search(r'U=(\d+)', lines[0]).group(1))
    macs = bench.unavoidable_macs(covariance, 6, 24, 32, distinct)
    assert 'square GEMM' in lines[3] and 'its GEMMs' in lines[4]
    for line in lines[3:]:
        assert f'{macs / 1e6:9.1f} M MACs' in line
        assert float(re.search(r'bound = +([\d.]+)x', line).group(1)) > 0


def test_skip_per_sample(bench, monkeypatch):
    monkeypatch.setitem(bench.SETTINGS, 'small', ('diagonal', 6, 24, 32))
    args = argparse.Namespace(seed=0, lambda0=0.5, repeat=1, bound_repeat=1,
                              skip_per_sample=['small'])
    lines = bench.bench_setting('small', args, torch.device('cpu'))
    assert 'per-sample formulation skipped' in lines[0]
    assert 'per-sample' not in ''.join(lines[1:]) and len(lines) == 5


@pytest.mark.parametrize('covariance', ['full', 'diagonal'])
def test_bound_gemms_count_the_unavoidable_macs(bench, covariance):
    """The timed matmuls of the shape-matched bound are the counted ones, up to the non-matmul
    terms (U·C·A row dot products for full covariance, N·A squares for the diagonal one)."""
    labels = torch.tensor([0, 0, 2, 5, 5, 5, 1])
    run, macs = bench.bound_gemms(covariance, 6, 24, labels, torch.device('cpu'))
    run()
    distinct, left_out = 4, (4 * 6 * 24 if covariance == 'full' else 7 * 24)
    assert macs == bench.unavoidable_macs(covariance, 6, 24, 7, distinct) - left_out


def test_train_step_line(bench):
    args = argparse.Namespace(seed=0, lambda0=0.5, repeat=1, train_batch=4, train_classes=5)
    line = bench.bench_train_step(args, torch.device('cpu'))[0]
    assert re.search(r'overhead [\d.]+x', line)
