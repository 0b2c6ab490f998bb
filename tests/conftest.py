# Copyright (c) dynamicnet contributors. All rights reserved.
"""Shared pytest fixtures.

``tiny_data_root('scannet')`` returns the root of a tiny dataset generated once per test session
(``dynamicnet.datasets.tiny``); ``default_scope('mmdet3d')`` sets mmengine's default scope for
one test and restores the previous one afterwards; ``official_table('msdnet_cifar100.tsv')``
returns a recorded official checkpoint layout of the specs.
"""
import itertools
import os.path as osp
import sys
from typing import Any, Callable, Dict, Iterator, Tuple

import pytest


@pytest.fixture(scope='session')
def tiny_data_root(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., str]:
    """A function ``(name, seed=0, **overrides) -> root`` of session-cached tiny datasets.

    Each distinct ``(name, seed, overrides)`` is generated once per session into its own
    temporary directory. Tests must treat the returned directory as read-only.

    Example:
        >>> def test_x(tiny_data_root):
        ...     root = tiny_data_root('imagenet')    # .../imagenet0/{train,val}/<class>/*.png
    """
    from dynamicnet.datasets.tiny import make_tiny_dataset

    roots: Dict[Tuple[str, int, str], str] = {}

    def get(name: str, seed: int = 0, **overrides: Any) -> str:
        key = (name, seed, repr(sorted(overrides.items())))
        if key not in roots:
            out = tmp_path_factory.mktemp(name) / 'root'
            roots[key] = make_tiny_dataset(name, str(out), seed=seed, **overrides)
        return roots[key]

    return get


@pytest.fixture(scope='session')
def official_table() -> Callable[[str], str]:
    """A function ``(name) -> path`` of ``shared/specs/official-checkpoints/<name>``.

    The spec folder sits next to the checkout (``../shared``) or inside it (``shared/``); a test
    that asks for a table found in neither place is skipped.
    """
    root = osp.dirname(osp.dirname(osp.abspath(__file__)))

    def get(name: str) -> str:
        table = osp.join('shared', 'specs', 'official-checkpoints', name)
        for path in (osp.join(osp.dirname(root), table), osp.join(root, table)):
            if osp.isfile(path):
                return path
        pytest.skip(f'{table} not found next to or inside the checkout')

    return get


@pytest.fixture
def default_scope() -> Iterator[Callable[[str], None]]:
    """A function that sets mmengine's default scope; the previous scope returns after the test.

    ``DefaultScope`` is process-global; a test that leaves its scope behind changes how later
    tests resolve unprefixed types.

    Example:
        >>> def test_y(default_scope):
        ...     default_scope('mmdet3d')
        ...     DATASETS.build(dict(type='ScanNetDataset', ...))
    """
    from mmengine.registry import DefaultScope

    saved = DefaultScope._instance_dict.copy()
    counter = itertools.count()

    def use(scope: str) -> None:
        DefaultScope.get_instance(f'pytest-{scope}-{next(counter)}', scope_name=scope)

    yield use
    DefaultScope._instance_dict = saved


@pytest.fixture(autouse=True)
def _isolate_default_scope() -> Iterator[None]:
    """Restore mmengine's process-global default scope after every test.

    ``Runner`` and ``init_default_scope`` set it and never reset it, so without this a test's
    outcome would depend on which test ran before it.
    """
    from mmengine.registry import DefaultScope

    saved = DefaultScope._instance_dict.copy()
    yield
    DefaultScope._instance_dict = saved


@pytest.fixture(autouse=True)
def _isolate_visualizers() -> Iterator[None]:
    """Forget mmengine's named visualizers after every test.

    The OpenMMLab base configs name their visualizer (``name='visualizer'``), and a ``Runner``
    reuses an existing instance of that name: without this, a tiny run would write its
    ``vis_data`` into the work directory of the first test that built one.
    """
    yield
    if 'mmengine.visualization' not in sys.modules:
        return
    from mmengine.visualization import Visualizer
    classes = [Visualizer]
    while classes:
        cls = classes.pop()
        cls._instance_dict.clear()
        classes.extend(cls.__subclasses__())
