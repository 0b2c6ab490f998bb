# Copyright (c) dynamicnet contributors. All rights reserved.
"""tools/model_converters/condensenetv2_convert.py and condensenetv2_official_to_dynamicnet.py."""
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from dynamicnet.registry import MODELS

REPO = Path(__file__).resolve().parents[2]
TOOLS = REPO / 'tools' / 'model_converters'
CONFIG = REPO / 'configs' / 'condensenetv2' / 'condensenetv2-a_1xb16_tiny-imagenet.py'
sys.path.insert(0, str(REPO / 'tests' / 'test_models' / 'test_backbones'))
from condensenetv2_official_ref import (SPEC_DIR, OfficialCondenseNetV2,  # noqa: E402
                                        random_official_state_dict)


def _load(name):
    spec = importlib.util.spec_from_file_location(name, TOOLS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _model(cfg_options=None):
    cfg = Config.fromfile(str(CONFIG))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def _save(model, path, **extra):
    torch.save(dict(state_dict=model.state_dict(), meta=dict(iter=1), **extra), path)


def test_convert_trained_checkpoint(tmp_path):
    model = _model()
    model.backbone.set_progress(0.6)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_var.uniform_(0.5, 1.5)
                m.weight.uniform_(0.2, 1.0)  # SFR gamma non-zero too
    _save(model, tmp_path / 'trained.pth')
    tool = _load('condensenetv2_convert')
    diff, scale = tool.convert(str(CONFIG), str(tmp_path / 'trained.pth'),
                               str(tmp_path / 'deploy.pth'))
    assert scale > 0.1 and diff < 1e-5 * scale
    deploy = _model({'model': {'backbone': {'deploy': True}}})
    ckpt = torch.load(tmp_path / 'deploy.pth', map_location='cpu', weights_only=False)
    assert ckpt['meta']['condensenetv2_deploy']
    assert not any(k.endswith('_mask') for k in ckpt['state_dict'])
    deploy.load_state_dict(ckpt['state_dict'], strict=True)
    model.eval()
    deploy.eval()
    x = torch.randn(4, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(
            deploy(x, mode='tensor'), model(x, mode='tensor'), atol=1e-5, rtol=1e-4)

    # Optional deploy-time BN fusion: loads into norm_fused=True, same outputs.
    tool.convert(str(CONFIG), str(tmp_path / 'trained.pth'), str(tmp_path / 'fused.pth'),
                 fuse_norm=True)
    fused = _model({'model': {'backbone': {'deploy': True, 'norm_fused': True}}})
    ckpt = torch.load(tmp_path / 'fused.pth', map_location='cpu', weights_only=False)
    assert ckpt['meta']['condensenetv2_norm_fused']
    fused.load_state_dict(ckpt['state_dict'], strict=True)
    with torch.no_grad():
        torch.testing.assert_close(
            fused.eval()(x, mode='tensor'), model(x, mode='tensor'), atol=1e-5, rtol=1e-4)

    # An already converted checkpoint is refused with the reason.
    with pytest.raises(ValueError, match='already converted'):
        tool.convert(str(CONFIG), str(tmp_path / 'deploy.pth'), str(tmp_path / 'again.pth'))


def test_convert_refuses_under_condensed(tmp_path):
    model = _model()
    model.backbone.set_progress(0.3)  # stage 4 of 7
    _save(model, tmp_path / 'half.pth')
    tool = _load('condensenetv2_convert')
    with pytest.raises(ValueError, match='under-condensed'):
        tool.convert(str(CONFIG), str(tmp_path / 'half.pth'), str(tmp_path / 'out.pth'))
    assert not (tmp_path / 'out.pth').exists()
    argv = ['condensenetv2_convert.py', str(CONFIG), str(tmp_path / 'half.pth'),
            str(tmp_path / 'out.pth')]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, 'argv', argv)
        with pytest.raises(SystemExit, match='under-condensed'):
            tool.main()


def test_convert_refuses_other_architecture(tmp_path):
    other = _model({'model': {'backbone': {'arch': 'b'}, 'head': {'in_channels': 1176}}})
    other.backbone.set_progress(1.0)
    _save(other, tmp_path / 'b.pth')
    tool = _load('condensenetv2_convert')
    with pytest.raises(ValueError, match='does not match'):
        tool.convert(str(CONFIG), str(tmp_path / 'b.pth'), str(tmp_path / 'out.pth'))
    torch.save({'state_dict': {'conv1.weight': torch.zeros(64, 3, 7, 7)}}, tmp_path / 'r.pth')
    with pytest.raises(ValueError, match='does not match'):
        tool.convert(str(CONFIG), str(tmp_path / 'r.pth'), str(tmp_path / 'out.pth'))


def _official_cli(monkeypatch, *args):
    monkeypatch.setattr(sys, 'argv', ['condensenetv2_official_to_dynamicnet.py', *map(str, args)])
    _load('condensenetv2_official_to_dynamicnet').main()


@pytest.mark.skipif(not SPEC_DIR.is_dir(), reason='official layout tables missing')
@pytest.mark.parametrize('layout', ['condensenetv2_a_train', 'condensenetv2_a_converted'])
def test_official_cli(layout, tmp_path, monkeypatch, capsys):
    sd = random_official_state_dict(layout, seed=1)
    # Official checkpoints are saved from DataParallel models inside a dict.
    src = tmp_path / f'{layout}.pth.tar'
    torch.save({'state_dict': {'module.' + k: v for k, v in sd.items()}, 'epoch': 350}, src)
    out = tmp_path / f'{layout}_dynamicnet.pth'
    _official_cli(monkeypatch, src, out)
    assert 'arch=a' in capsys.readouterr().out
    converted = layout.endswith('converted')
    reference = OfficialCondenseNetV2('a', converted=converted)
    reference.load_state_dict(sd)
    ckpt = torch.load(out, map_location='cpu', weights_only=False)
    model = _load('condensenetv2_official_to_dynamicnet').build_classifier(
        ckpt['meta']['condensenetv2'])
    model.load_state_dict(ckpt['state_dict'], strict=True)
    x = torch.randn(1, 3, 224, 224)
    with torch.no_grad():
        torch.testing.assert_close(
            model.eval()(x, mode='tensor'), reference.eval()(x), atol=1e-5, rtol=1e-4)


def test_official_cli_refuses_other_checkpoints(tmp_path, monkeypatch):
    torch.save({'state_dict': {'conv1.weight': torch.zeros(64, 3, 7, 7)}}, tmp_path / 'r.pth')
    with pytest.raises(SystemExit, match='not an official CondenseNetV2'):
        _official_cli(monkeypatch, tmp_path / 'r.pth', tmp_path / 'r_out.pth')
    assert not (tmp_path / 'r_out.pth').exists()


def test_cli_subprocess(tmp_path):
    model = _model()
    model.backbone.set_progress(1.0)
    _save(model, tmp_path / 'trained.pth')
    result = subprocess.run(
        [sys.executable, str(TOOLS / 'condensenetv2_convert.py'), str(CONFIG),
         str(tmp_path / 'trained.pth'), str(tmp_path / 'deploy.pth')],
        capture_output=True, text=True, cwd=str(REPO))
    assert result.returncode == 0, result.stderr
    assert 'max |backbone output difference|' in result.stdout
