# Copyright (c) dynamicnet contributors. All rights reserved.
"""3D datasets and transforms: they need mmdet3d and are imported on first lookup miss.

``CheckedScanNetDataset`` and ``CheckedSUNRGBDDataset`` are mmdet3d's indoor detection datasets
with input checks that fail at dataset construction with the file at fault and what was
expected, instead of an unrelated error deep inside a transform or the model:

* a missing info file;
* a v1-format info file (mmdet3d 0.x: a list of per-scene dicts), which mmdet3d 1.x cannot read;
* a missing, empty or too-small point file (fewer than ``min_points`` points);
* a point file whose size is not a whole number of points of ``num_pts_feats`` float32 values
  (wrong point dimensions).
"""
import os.path as osp
from typing import Any

import mmengine
from mmdet3d.datasets import ScanNetDataset, SUNRGBDDataset

from dynamicnet.registry import DATASETS

__all__ = ['CheckedIndoorDatasetMixin', 'CheckedScanNetDataset', 'CheckedSUNRGBDDataset']

_V2_LAYOUT = ("{'metainfo': {...}, 'data_list': [{'lidar_points': {'num_pts_feats': ..., "
              "'lidar_path': ...}, 'instances': [...], ...}, ...]}")


class CheckedIndoorDatasetMixin:
    """Input checks for mmdet3d indoor datasets (mix in before the mmdet3d class).

    Args:
        min_points: Fewest points a scene may have (e.g. the first FPS count of the model).
        *args, **kwargs: As for the mmdet3d dataset.
    """

    #: Overridden per dataset: the upstream command that produces v2 info files.
    CONVERTER = 'python tools/create_data.py <dataset> --root-path ... --out-dir ...'
    #: ``update_infos_to_v2.py --dataset`` value.
    V2_NAME = '<dataset>'

    def __init__(self, *args: Any, min_points: int = 1, **kwargs: Any) -> None:
        self.min_points = min_points
        super().__init__(*args, **kwargs)

    def load_data_list(self) -> list:
        path = self.ann_file
        name = type(self).__name__
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{name}: info file {path!r} does not exist (ann_file joined with data_root). '
                f'Expected an mmdet3d 1.x (v2) info .pkl made by mmdet3d\'s {self.CONVERTER}; '
                'tiny data: python tools/dataset_converters/make_tiny_data.py NAME --out DIR.')
        raw = mmengine.load(path)
        if not isinstance(raw, dict) or 'data_list' not in raw or 'metainfo' not in raw:
            found = (f'a {type(raw).__name__} of {len(raw)} entries' if isinstance(
                raw, (list, tuple)) else f'keys {sorted(raw)[:6]}' if isinstance(
                    raw, dict) else type(raw).__name__)
            raise ValueError(
                f'{name}: info file {path!r} is not in the v2 format mmdet3d 1.x reads (found '
                f'{found}; v1 files of mmdet3d 0.x are lists of per-scene dicts). Expected '
                f'{_V2_LAYOUT}. Convert it with mmdet3d\'s tools/dataset_converters/'
                f'update_infos_to_v2.py --dataset {self.V2_NAME} --pkl-path {path} '
                '--out-dir DIR.')
        return super().load_data_list()

    def parse_data_info(self, info: dict) -> dict:
        info = super().parse_data_info(info)
        if self.modality.get('use_lidar', True):
            self._check_points_file(info['lidar_points']['lidar_path'],
                                    int(info['lidar_points']['num_pts_feats']))
        return info

    def _check_points_file(self, path: str, num_feats: int) -> None:
        name = type(self).__name__
        if not osp.isfile(path):
            raise FileNotFoundError(f'{name}: point file {path!r} listed in {self.ann_file!r} '
                                    'does not exist.')
        size = osp.getsize(path)
        record = 4 * num_feats
        if size == 0:
            raise ValueError(f'{name}: point file {path!r} is empty; expected float32 points of '
                             f'{num_feats} values each (num_pts_feats in {self.ann_file!r}).')
        if size % record:
            raise ValueError(
                f'{name}: point file {path!r} has {size} bytes, not a whole number of points of '
                f'{num_feats} float32 values ({record} bytes; num_pts_feats in '
                f'{self.ann_file!r}): wrong point dimensions.')
        if size // record < self.min_points:
            raise ValueError(f'{name}: point file {path!r} holds {size // record} points; at '
                             f'least min_points={self.min_points} are expected (the model '
                             'samples that many).')


@DATASETS.register_module()
class CheckedScanNetDataset(CheckedIndoorDatasetMixin, ScanNetDataset):
    """mmdet3d's ``ScanNetDataset`` with the input checks of :class:`CheckedIndoorDatasetMixin`."""
    CONVERTER = ('tools/create_data.py scannet --root-path ./data/scannet --out-dir '
                 './data/scannet --extra-tag scannet')
    V2_NAME = 'scannet'


@DATASETS.register_module()
class CheckedSUNRGBDDataset(CheckedIndoorDatasetMixin, SUNRGBDDataset):
    """mmdet3d's ``SUNRGBDDataset`` with the input checks of :class:`CheckedIndoorDatasetMixin`."""
    CONVERTER = ('tools/create_data.py sunrgbd --root-path ./data/sunrgbd --out-dir '
                 './data/sunrgbd --extra-tag sunrgbd')
    V2_NAME = 'sunrgbd'
