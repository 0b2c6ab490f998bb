# Copyright (c) dynamicnet contributors. All rights reserved.
"""Bad 3D input fails at dataset construction, naming the file and what was expected."""
import os.path as osp
import shutil

import numpy as np
import pytest

pytest.importorskip('mmdet3d')


@pytest.fixture
def scannet_copy(tiny_data_root, tmp_path):
    root = tmp_path / 'scannet'
    shutil.copytree(tiny_data_root('scannet'), root)
    return str(root)


def _build(root, default_scope, **kwargs):
    default_scope('mmdet3d')
    from dynamicnet.datasets.det3d import CheckedScanNetDataset
    return CheckedScanNetDataset(data_root=root, **{'ann_file': 'scannet_infos_train.pkl',
                                                    **kwargs})


def _first_points_file(root):
    import mmengine
    name = mmengine.load(osp.join(root, 'scannet_infos_train.pkl'))['data_list'][0]
    return osp.join(root, 'points', name['lidar_points']['lidar_path'])


def test_valid_data_builds(scannet_copy, default_scope):
    dataset = _build(scannet_copy, default_scope, min_points=512)
    assert len(dataset) == 32


def test_missing_info_file(scannet_copy, default_scope):
    with pytest.raises(FileNotFoundError, match=r"scannet_infos_nope\.pkl.*does not exist.*v2"):
        _build(scannet_copy, default_scope, ann_file='scannet_infos_nope.pkl')


def test_v1_info_file(scannet_copy, default_scope):
    import mmengine
    v1 = [dict(point_cloud=dict(num_features=6, lidar_idx='scene0000_00'),
               pts_path='points/scene0000_00.bin', annos=dict(gt_num=0))]
    mmengine.dump(v1, osp.join(scannet_copy, 'v1.pkl'))
    with pytest.raises(ValueError, match=r"v1\.pkl.*not in the v2 format.*list of 1 entries.*"
                       r"update_infos_to_v2\.py --dataset scannet"):
        _build(scannet_copy, default_scope, ann_file='v1.pkl')


def test_empty_point_file(scannet_copy, default_scope):
    path = _first_points_file(scannet_copy)
    open(path, 'wb').close()
    with pytest.raises(ValueError, match=rf"{osp.basename(path)}' is empty.*6 values"):
        _build(scannet_copy, default_scope)


def test_wrong_point_dimensions(scannet_copy, default_scope):
    path = _first_points_file(scannet_copy)
    np.zeros((1001, 5), dtype=np.float32).tofile(path)
    with pytest.raises(ValueError, match=r'20020 bytes.*6 float32 values.*wrong point dim'):
        _build(scannet_copy, default_scope)


def test_too_small_point_cloud(scannet_copy, default_scope):
    path = _first_points_file(scannet_copy)
    np.zeros((100, 6), dtype=np.float32).tofile(path)
    with pytest.raises(ValueError, match=r'holds 100 points; at least min_points=512'):
        _build(scannet_copy, default_scope, min_points=512)
