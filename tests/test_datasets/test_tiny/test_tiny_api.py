# Copyright (c) dynamicnet contributors. All rights reserved.
"""make_tiny_dataset / TINY_DATASETS / the CLI: determinism, idempotency, safety, base configs."""
import hashlib
import os
import os.path as osp
import subprocess
import sys

import pytest

from dynamicnet.datasets.tiny import (STAMP_FILE, TINY_DATASETS, find_tiny_datasets,
                                      make_tiny_dataset, read_stamp)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
ALL = ('scannet', 'sunrgbd', 'coco', 'cityscapes', 'imagenet', 'fewshot', 'video')
# Small overrides keep the byte-level determinism test fast.
SMALL = dict(
    scannet=dict(num_train=2, num_val=1),
    sunrgbd=dict(num_train=2, num_val=1),
    coco=dict(num_train=3, num_val=2),
    cityscapes=dict(images_per_city=1),
    imagenet=dict(num_train_per_class=2, num_val_per_class=1),
    fewshot=dict(images_per_class=2),
    video=dict(num_train_per_class=1, num_val_per_class=1))


def digest(root: str) -> dict:
    """sha256 of every file under root except the stamp, by relative path."""
    out = {}
    for base, _, files in os.walk(root):
        for name in files:
            if name == STAMP_FILE:
                continue
            path = osp.join(base, name)
            with open(path, 'rb') as f:
                out[osp.relpath(path, root)] = hashlib.sha256(f.read()).hexdigest()
    return out


def test_table_complete():
    assert set(TINY_DATASETS) == set(ALL)
    for name, info in TINY_DATASETS.items():
        assert info.default_root == f'data/tiny/{name}'
        assert info.make_command == (
            f'python tools/dataset_converters/make_tiny_data.py {name} --out data/tiny/{name}')
        assert osp.isfile(osp.join(REPO, info.base_config)), info.base_config
        assert info.dataset_types and info.converter_command and info.upstream
        assert info.make_command in info.hint() and info.converter_command in info.hint()
    assert [i.name for i in find_tiny_datasets('mmdet3d.ScanNetDataset')] == ['scannet']
    assert [i.name for i in find_tiny_datasets('SUNRGBDDataset')] == ['sunrgbd']
    assert [i.name for i in find_tiny_datasets('CityscapesDataset')] == ['cityscapes']
    assert [i.name for i in find_tiny_datasets('CustomDataset')] == ['imagenet', 'fewshot']
    assert find_tiny_datasets('KittiDataset') == []


@pytest.mark.parametrize('name', ALL)
def test_deterministic_bytes(name, tmp_path):
    a = make_tiny_dataset(name, str(tmp_path / 'a'), seed=3, **SMALL[name])
    b = make_tiny_dataset(name, str(tmp_path / 'b'), seed=3, **SMALL[name])
    c = make_tiny_dataset(name, str(tmp_path / 'c'), seed=4, **SMALL[name])
    da, db, dc = digest(a), digest(b), digest(c)
    assert len(da) >= 4
    assert da == db
    common = set(da) & set(dc)  # another seed: (mostly) the same files, other content
    assert len(common) >= 0.7 * len(da)
    assert sum(da[k] != dc[k] for k in common) >= 0.5 * len(common)


def test_idempotent_and_regenerates(tmp_path):
    root = str(tmp_path / 'imagenet')
    small = SMALL['imagenet']
    make_tiny_dataset('imagenet', root, **small)
    marker = osp.join(root, 'train', 'user_file.txt')
    open(marker, 'w').close()
    make_tiny_dataset('imagenet', root, **small)  # identical request: nothing is touched
    assert osp.exists(marker)
    make_tiny_dataset('imagenet', root, seed=1, **small)  # other arguments: regenerated
    assert not osp.exists(marker)
    assert read_stamp(root)['seed'] == 1
    open(marker, 'w').close()
    make_tiny_dataset('imagenet', root, seed=1, force=True, **small)
    assert not osp.exists(marker)
    assert not [p for p in os.listdir(tmp_path) if p != 'imagenet']  # no temporaries left


def test_refuses_foreign_directory_and_bad_arguments(tmp_path):
    foreign = tmp_path / 'scannet'
    foreign.mkdir()
    (foreign / 'scannet_infos_train.pkl').write_bytes(b'real data')
    with pytest.raises(FileExistsError, match='not a generated tiny dataset'):
        make_tiny_dataset('scannet', str(foreign), force=True)
    assert (foreign / 'scannet_infos_train.pkl').read_bytes() == b'real data'
    other = make_tiny_dataset('imagenet', str(tmp_path / 'imagenet'), **SMALL['imagenet'])
    with pytest.raises(FileExistsError, match="holds the tiny 'imagenet' dataset"):
        make_tiny_dataset('coco', other)
    with pytest.raises(KeyError, match='unknown tiny dataset'):
        make_tiny_dataset('kitti', str(tmp_path / 'k'))
    with pytest.raises(TypeError, match='num_scenes'):
        make_tiny_dataset('scannet', str(tmp_path / 's'), num_scenes=3)
    assert not (tmp_path / 's').exists()


def test_cli(tmp_path):
    script = osp.join(REPO, 'tools', 'dataset_converters', 'make_tiny_data.py')
    env = dict(os.environ, PYTHONPATH=REPO)
    cmd = [
        sys.executable, script, 'imagenet', '--out',
        str(tmp_path / 'imagenet'), '--seed', '2', '--set', 'num_train_per_class=2',
        'num_val_per_class=1'
    ]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    assert 'imagenet: ' in first and 'wrote in' in first and 'seed 2' in first
    assert '6 classes x 2 PNGs' in first
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True).stdout
    assert 'already present' in second
    assert len(os.listdir(tmp_path / 'imagenet' / 'train')) == 6
    bad = subprocess.run([sys.executable, script, 'kitti'], capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and 'unknown dataset' in bad.stderr


@pytest.mark.parametrize('name', ALL)
def test_base_config_loads(name, tiny_base_cfg):
    cfg = tiny_base_cfg(name)
    assert 'default_scope' not in cfg
    for split in ('train', 'val'):
        loader = cfg[f'{split}_dataloader']
        assert loader['num_workers'] == 0 and loader['persistent_workers'] is False
        assert loader['batch_size'] <= 16
    text = repr(cfg.train_dataloader) + repr(cfg.val_dataloader)
    assert f'data/tiny/{name}' in text
