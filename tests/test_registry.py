# Copyright (c) dynamicnet contributors. All rights reserved.
"""dynamicnet's registries resolve from every upstream default scope (openmmlab.md §1.2-1.3)."""
import subprocess
import sys

import pytest
import torch.nn as nn
from mmengine.registry import DefaultScope

from dynamicnet.registry import MODELS


@MODELS.register_module(name='RegistryProbe', force=True)
class RegistryProbe(nn.Module):
    """A leaf model used only to probe scope resolution."""

    def __init__(self, width: int = 3):
        super().__init__()
        self.width = width


@MODELS.register_module(name='RegistryProbeOuter', force=True)
class RegistryProbeOuter(nn.Module):
    """Builds a nested child in the caller's scope, as dynamicnet components do."""

    def __init__(self, inner: dict):
        super().__init__()
        self.inner = MODELS.build(inner)


def _build_in_scope(scope: str, cfg: dict):
    import importlib

    import mmengine.registry as root

    importlib.import_module(f'{scope}.registry')
    with DefaultScope.overwrite_default_scope(scope):
        return root.MODELS.build(cfg)


@pytest.mark.parametrize('scope', ['mmengine', 'mmpretrain', 'mmdet', 'mmseg', 'mmdet3d'])
def test_prefixed_type_resolves_from_every_upstream_scope(scope):
    model = _build_in_scope(scope, dict(type='dynamicnet.RegistryProbe', width=5))
    assert isinstance(model, RegistryProbe) and model.width == 5


@pytest.mark.parametrize('scope', ['mmpretrain', 'mmdet3d'])
def test_scope_key_builds_nested_children_in_dynamicnet(scope):
    model = _build_in_scope(
        scope,
        dict(type='RegistryProbeOuter', _scope_='dynamicnet', inner=dict(type='RegistryProbe')))
    assert isinstance(model.inner, RegistryProbe)


def test_registries_are_direct_children_of_mmengine_roots():
    import mmengine.registry as root

    import dynamicnet.registry as dn

    for name in ('MODELS', 'DATASETS', 'TRANSFORMS', 'METRICS', 'LOOPS', 'HOOKS'):
        registry = getattr(dn, name)
        assert registry.scope == 'dynamicnet'
        assert registry.parent is getattr(root, name)
        assert getattr(root, name).children['dynamicnet'] is registry


def test_importing_models_does_not_import_optional_libraries():
    code = ('import sys, dynamicnet.models, dynamicnet.datasets, dynamicnet.evaluation, '
            'dynamicnet.engine; '
            'print(sorted(m for m in ("mmdet3d", "mmseg") if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[]', out.stdout + out.stderr
