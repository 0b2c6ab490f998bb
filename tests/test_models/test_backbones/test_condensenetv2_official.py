# Copyright (c) dynamicnet contributors. All rights reserved.
"""dynamicnet's CondenseNetV2 against an independent re-implementation of the official code
(``condensenetv2_official_ref``): official state-dict layouts (from the parameter tables in
``../shared/specs/official-checkpoints/``), the key mapping, the official condensation ranking and
the official conversion."""
import importlib.util
from pathlib import Path

import pytest
import torch
from condensenetv2_official_ref import (SPEC_DIR, OfficialCondenseNetV2, _Masked, randomize_,
                                        random_official_state_dict, read_layout)

from dynamicnet.models.utils.condensenetv2_checkpoint import (infer_official_arch, load_strict,
                                                              official_to_dynamicnet)

TOOL = Path(__file__).resolve().parents[3] / 'tools' / 'model_converters' / \
    'condensenetv2_official_to_dynamicnet.py'
needs_tables = pytest.mark.skipif(not SPEC_DIR.is_dir(), reason='official layout tables missing')


def _tool():
    spec = importlib.util.spec_from_file_location('cdnv2_official_tool', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _input(seed=0):
    return torch.randn(2, 3, 224, 224, generator=torch.Generator().manual_seed(seed))


@needs_tables
@pytest.mark.parametrize('layout', ['condensenetv2_a_train', 'condensenetv2_a_converted'])
def test_official_layout_loads_and_matches_official_forward(layout):
    converted = layout.endswith('converted')
    sd = random_official_state_dict(layout, seed=3)
    rows = read_layout(layout)
    assert {k: (s, d) for k, s, d in rows} == {
        k: (tuple(v.shape), str(v.dtype).replace('torch.', '')) for k, v in sd.items()}
    reference = OfficialCondenseNetV2('a', converted=converted)
    reference.load_state_dict(sd, strict=True)  # the reference has exactly the official layout
    new, info = official_to_dynamicnet(sd)
    assert info['arch'] == 'a' and info['deploy'] is converted
    assert info['mid_channels'] == [828] and info['num_classes'] == 1000
    model = _tool().build_classifier(info)
    load_strict(model, new, 'dynamicnet CondenseNetV2-A')  # no missing / unexpected keys
    reference.eval()
    model.eval()
    x = _input()
    with torch.no_grad():
        y_ref = reference(x)
        y = model(x, mode='tensor')
    assert y_ref.abs().max() > 0.1
    torch.testing.assert_close(y, y_ref, atol=1e-5, rtol=1e-4)
    if not converted:
        # The training layout converts to the deployable network with the same outputs.
        model.backbone.switch_to_deploy()
        with torch.no_grad():
            torch.testing.assert_close(model(x, mode='tensor'), y_ref, atol=1e-5, rtol=1e-4)


def test_condensation_matches_official_ranking():
    torch.manual_seed(0)
    reference = OfficialCondenseNetV2('a')
    new, info = official_to_dynamicnet(reference.state_dict())
    model = _tool().build_classifier(info)
    load_strict(model, new, 'A')
    backbone = model.backbone
    gen = torch.Generator().manual_seed(1)
    for stage in range(1, 8):
        # Perturb the weights identically, then one official event vs. set_progress.
        with torch.no_grad():
            for m in reference.modules():
                if isinstance(m, _Masked):
                    m.conv.weight.add_(torch.randn(m.conv.weight.shape, generator=gen) * 0.1)
                    m.drop()
        new, _ = official_to_dynamicnet(reference.state_dict())
        backbone_sd = {k[len('backbone.'):]: v for k, v in new.items()
                       if k.startswith('backbone.') and k.endswith('conv.weight')}
        backbone.load_state_dict(backbone_sd, strict=False)
        assert backbone.set_progress(stage / 14 + 1e-9) == 1
        masks = {k: v for k, v in new.items() if k.endswith(('_mask', '_count', '_stage'))}
        own = model.state_dict()
        for key, value in masks.items():
            assert torch.equal(own[key], value), (stage, key)
    assert backbone.is_fully_condensed()


def test_conversion_matches_official_conversion():
    torch.manual_seed(0)
    reference = OfficialCondenseNetV2('a')
    randomize_(reference, seed=2)
    reference.condense_fully()
    reference.eval()
    official_converted = reference.convert().eval()
    new, info = official_to_dynamicnet(reference.state_dict())
    model = _tool().build_classifier(info)
    load_strict(model, new, 'A')
    model.eval()
    model.backbone.switch_to_deploy()
    expected, info_conv = official_to_dynamicnet(official_converted.state_dict())
    assert info_conv['deploy']
    own = model.state_dict()
    assert set(own) == set(expected)
    for key, value in expected.items():
        if key.endswith('.index') or key.endswith('num_batches_tracked'):
            assert torch.equal(own[key], value), key
        else:
            torch.testing.assert_close(own[key], value, atol=0, rtol=0, msg=key)
    x = _input(1)
    with torch.no_grad():
        torch.testing.assert_close(
            model(x, mode='tensor'), official_converted(x), atol=1e-5, rtol=1e-4)


def test_not_an_official_checkpoint():
    with pytest.raises(ValueError, match='not an official CondenseNetV2'):
        infer_official_arch({'conv1.weight': torch.zeros(64, 3, 7, 7),
                             'fc.weight': torch.zeros(1000, 2048)})
    sd = OfficialCondenseNetV2('a').state_dict()
    sd['features.extra.weight'] = torch.zeros(1)
    with pytest.raises(ValueError, match='unexpected keys'):
        official_to_dynamicnet(sd)
