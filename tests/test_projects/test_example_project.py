# Copyright (c) dynamicnet contributors. All rights reserved.
"""Downstream use: `dynamicnet::` config inheritance from outside the repository, from the editable
install and from a regular wheel install, and the example project trained for one iteration."""
import os
import os.path as osp
import shutil
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
PROJECT = osp.join(ROOT, 'projects', 'example_project')

_INHERIT = """
_base_ = ['dynamicnet::_base_/datasets/tiny_imagenet.py']
train_dataloader = dict(batch_size=3)
"""
_CHECK = """
import sys
import dynamicnet
from mmengine.config import Config
cfg = Config.fromfile(sys.argv[1])
print(dynamicnet.__file__)
print(cfg.train_dataloader.batch_size, cfg.train_dataloader.dataset.type,
      cfg.train_dataloader.dataset.get('_scope_'), cfg.num_classes)
"""


def _run(args, cwd, pythonpath=None):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    if pythonpath:
        env['PYTHONPATH'] = os.pathsep.join([pythonpath, env.get('PYTHONPATH', '')])
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout


def test_inherit_from_outside_the_repository_editable(tmp_path):
    (tmp_path / 'my_cfg.py').write_text(_INHERIT)
    out = _run([sys.executable, '-c', _CHECK, 'my_cfg.py'], cwd=tmp_path).splitlines()
    assert out[0].startswith(osp.join(ROOT, 'dynamicnet'))
    assert out[1] == '3 CustomDataset None 6'


def test_inherit_from_a_regular_wheel_install(tmp_path):
    wheels, site, source = tmp_path / 'wheels', tmp_path / 'site', tmp_path / 'source'
    # Build from a copy: setuptools writes build/ and *.egg-info/ next to setup.py.
    shutil.copytree(ROOT, source, symlinks=True, ignore=shutil.ignore_patterns(
        '.git', '.venv', 'data', 'work_dirs', 'build', '*.egg-info', '__pycache__', '.whl'))
    _run([sys.executable, '-m', 'pip', 'wheel', '-q', '--no-deps', '--no-build-isolation', '-w',
          str(wheels), str(source)], cwd=tmp_path)
    wheel = next(wheels.glob('dynamicnet-*.whl'))
    _run([sys.executable, '-m', 'pip', 'install', '-q', '--no-deps', '--target', str(site),
          str(wheel)], cwd=tmp_path)
    assert (site / 'dynamicnet' / '.mim' / 'configs' / '_base_' / 'datasets' /
            'tiny_imagenet.py').is_file()
    (tmp_path / 'my_cfg.py').write_text(_INHERIT)
    out = _run([sys.executable, '-c', _CHECK, 'my_cfg.py'], cwd=tmp_path,
               pythonpath=str(site)).splitlines()
    assert out[0].startswith(str(site))
    assert out[1] == '3 CustomDataset None 6'


def test_example_project_trains_one_iteration(tmp_path, tiny_data_root):
    project = tmp_path / 'example_project'
    shutil.copytree(PROJECT, project)
    data_root = tiny_data_root('imagenet')
    (project / 'one_iter.py').write_text(
        "_base_ = ['configs/gated-pooling_resnet18_1xb16_tiny-imagenet.py']\n"
        "train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters=1, val_interval=1)\n"
        "param_scheduler = []\n"
        "default_hooks = dict(logger=dict(interval=1), checkpoint=dict(by_epoch=False))\n"
        "log_processor = dict(by_epoch=False)\n")
    _run([
        sys.executable, osp.join(ROOT, 'tools', 'train.py'), 'one_iter.py', '--work-dir', 'work',
        '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
        f'val_dataloader.dataset.data_root={data_root}',
        f'test_dataloader.dataset.data_root={data_root}'
    ], cwd=project, pythonpath=str(project))
    assert (project / 'work' / 'iter_1.pth').is_file()
    log = next((project / 'work').glob('*/*.log')).read_text()
    assert 'Iter(train) [1/1]' in log
    assert 'accuracy/top1' in log
