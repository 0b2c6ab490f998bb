# Copyright (c) dynamicnet contributors. All rights reserved.
"""Fixtures for the tiny dataset tests: the base configs, pointed at generated roots."""
import copy
import os.path as osp
from typing import Callable

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


@pytest.fixture
def tiny_base_cfg() -> Callable:
    """``(name) -> mmengine.Config`` of ``configs/_base_/datasets/tiny_<name>.py``."""
    from mmengine.config import Config

    def load(name: str):
        return Config.fromfile(osp.join(REPO, 'configs', '_base_', 'datasets', f'tiny_{name}.py'))

    return load


@pytest.fixture
def tiny_dataset_cfg(tiny_base_cfg) -> Callable:
    """``(name, split, root) -> dict``: the base config's dataset of ``split`` ('train',
    'val'), unwrapped from ``RepeatDataset``, with ``data_root`` set to ``root``."""

    def get(name: str, split: str, root: str) -> dict:
        cfg = tiny_base_cfg(name)
        dataset = copy.deepcopy(cfg[f'{split}_dataloader']['dataset']).to_dict()
        while 'dataset' in dataset:
            dataset = dataset['dataset']
        dataset['data_root'] = root
        return dataset

    return get
