# Copyright (c) dynamicnet contributors. All rights reserved.
"""End to end on the tiny ImageNet-style data: train MSDNet / GFNet (3 stages) with the Runner,
then ``dynamic_eval.py`` (held-in fitting pass, CSV/PNG/table) and ``benchmark_early_exit.py``."""
import csv
import importlib.util
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MSDNET = osp.join(ROOT, 'configs', 'msdnet', 'msdnet-b3_1xb16_tiny-imagenet.py')
GFNET = osp.join(ROOT, 'configs', 'gfnet', 'gfnet-r18_p16-t3_stage{}_1xb16_tiny-imagenet.py')


def _tool(name):
    path = osp.join(ROOT, 'tools', 'analysis_tools', f'{name}.py')
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _configure(path, root, work_dir, epochs, **extra):
    cfg = Config.fromfile(path)
    if 'dataset' in cfg.train_dataloader.dataset:
        cfg.train_dataloader.dataset.dataset.data_root = root
    else:
        cfg.train_dataloader.dataset.data_root = root
    for loader in ('val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = root
    cfg.test_cfg.fit_dataloader.dataset.dataset.data_root = root
    cfg.fit_dataloader.dataset.dataset.data_root = root
    cfg.work_dir = str(work_dir)
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = 100
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=epochs)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.log_level = 'WARNING'
    cfg.merge_from_dict(extra)
    return cfg


def _epoch_losses(runner, key='train/loss'):
    values = runner.message_hub.get_scalar(key).data[0]
    per_epoch = len(runner.train_dataloader)
    return [float(values[i:i + per_epoch].mean()) for i in range(0, len(values), per_epoch)]


@pytest.fixture(scope='module')
def msdnet_run(tmp_path_factory, tiny_data_root):
    """A 5-epoch MSDNet run on the tiny data: (runner, config file, checkpoint, work dir)."""
    root = tiny_data_root('imagenet')
    tmp_path = tmp_path_factory.mktemp('msdnet_run')
    torch.manual_seed(0)
    cfg = _configure(MSDNET, root, tmp_path / 'msdnet', epochs=5)
    runner = Runner.from_cfg(cfg)
    runner.train()
    config_file = tmp_path / 'msdnet_tiny.py'
    cfg.dump(str(config_file))
    return runner, str(config_file), osp.join(cfg.work_dir, 'epoch_5.pth'), tmp_path


def test_msdnet_tiny_training_loss_falls_and_checkpoint_has_costs(msdnet_run):
    runner, _, ckpt, _ = msdnet_run
    losses = _epoch_losses(runner)
    assert len(losses) == 5 and losses[-1] < 0.8 * losses[0]
    meta = torch.load(ckpt, map_location='cpu')['meta']['exit_costs']  # ExitCostsHook
    assert meta['input_shape'] == [3, 32, 32]
    assert meta['macs'] == runner.model.exit_costs((3, 32, 32))


def test_dynamic_eval_writes_csv_png_and_table(msdnet_run, capsys):
    _, config_file, ckpt, tmp_path = msdnet_run
    out_dir = tmp_path / 'eval'
    res = _tool('dynamic_eval').main([config_file, ckpt, '--out-dir', str(out_dir),
                                      '--work-dir', str(tmp_path / 'eval_work')])
    printed = capsys.readouterr().out
    assert 'budgeted batch classification' in printed and 'anytime prediction' in printed
    assert res['fit_size'] == 36 and 'holdout' in res['fit_set']
    assert osp.getsize(out_dir / 'budget_curve.png') > 1000
    with open(out_dir / 'budget_curve.csv') as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 39
    gmacs = [float(r['gmacs']) for r in rows]
    costs = res['exit_costs']
    assert costs[0] / 1e9 - 1e-12 <= min(gmacs) and max(gmacs) <= costs[-1] / 1e9 + 1e-12
    assert gmacs[-1] > gmacs[0]
    # the anytime accuracy of the last exit beats chance (6 classes) after a few epochs
    assert res[f'exit{len(costs)}/top1'] > 100 / 6 + 10


def test_benchmark_sends_the_requested_fraction_out_early(msdnet_run):
    _, config_file, ckpt, _ = msdnet_run
    [(_, result)] = _tool('benchmark_early_exit').main(
        [config_file, '--checkpoint', ckpt, '--fraction', '0.5', '--batch-size', '32',
         '--repeat', '1'])
    assert result['rows'][0]['exited'] == 16
    assert result['rows'][0]['macs_saving'] > 0.2


def test_gfnet_three_stages_train_and_evaluate(tmp_path, tiny_data_root):
    root = tiny_data_root('imagenet')
    torch.manual_seed(0)
    cfg1 = _configure(GFNET.format(1), root, tmp_path / 's1', epochs=4)
    runner = Runner.from_cfg(cfg1)
    runner.train()
    losses = _epoch_losses(runner)
    assert losses[-1] < losses[0]

    cfg2 = _configure(GFNET.format(2), root, tmp_path / 's2', epochs=1,
                      load_from=osp.join(cfg1.work_dir, 'epoch_4.pth'))
    runner2 = Runner.from_cfg(cfg2)
    runner2.train()
    model2 = runner2.model
    stage1 = torch.load(osp.join(cfg1.work_dir, 'epoch_4.pth'), map_location='cpu')['state_dict']
    for key, value in model2.state_dict().items():
        if key.startswith(('local_encoder.', 'global_encoder.', 'classifier.')):
            assert torch.equal(value, stage1[key]), key  # frozen, BN statistics included
    moved = [not torch.equal(v, stage1[k]) for k, v in model2.state_dict().items()
             if k.startswith('policy.policy.')]
    assert any(moved)
    assert torch.isfinite(torch.tensor(runner2.message_hub.get_scalar('train/loss').data[0])).all()

    cfg3 = _configure(GFNET.format(3), root, tmp_path / 's3', epochs=1,
                      load_from=osp.join(cfg2.work_dir, 'epoch_1.pth'))
    runner3 = Runner.from_cfg(cfg3)
    runner3.train()
    metrics = runner3.test()
    assert len(metrics['early_exit/budget/macs']) == 39
    costs = metrics['early_exit/exit_costs']
    assert len(costs) == 3 and costs[0] < costs[1] < costs[2]


def test_val_loop_fits_on_its_own_set_without_touching_other_metrics(msdnet_run, tmp_path):
    _, config_file, ckpt, _ = msdnet_run
    cfg = Config.fromfile(config_file)
    cfg.work_dir = str(tmp_path)
    cfg.load_from = ckpt
    cfg.val_cfg = dict(type='dynamicnet.EarlyExitValLoop', fit_dataloader=cfg.fit_dataloader)
    cfg.val_evaluator = [
        dict(type='Accuracy', topk=(1, )),
        dict(type='dynamicnet.EarlyExitMetric', fit_set='holdout'),
    ]
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    metrics = runner.val_loop.run()
    assert metrics['early_exit/fit_size'] == 36 and metrics['early_exit/fit_set'] == 'holdout'
    # Accuracy saw the 48 validation images only: it equals the last exit's anytime accuracy
    assert metrics['accuracy/top1'] == pytest.approx(metrics['early_exit/exit3/top1'])
