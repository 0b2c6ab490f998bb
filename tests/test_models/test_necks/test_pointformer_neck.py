# Copyright (c) dynamicnet contributors. All rights reserved.
"""PointformerNeck refines another point backbone's outputs (mmdet3d's PointNet2SASSG)."""
import pytest
import torch

pytest.importorskip('mmdet3d')


def _backbone_and_neck(default_scope):
    default_scope('mmdet3d')
    from mmdet3d.registry import MODELS
    torch.manual_seed(0)
    backbone = MODELS.build(
        dict(type='PointNet2SASSG', in_channels=4, num_points=(128, 64, 32, 16),
             radius=(0.2, 0.4, 0.8, 1.2), num_samples=(16, 8, 8, 8),
             sa_channels=((16, 16, 32), (32, 32, 64), (32, 32, 64), (32, 32, 64)),
             fp_channels=((64, 64), (64, 64))))
    neck = MODELS.build(
        dict(type='dynamicnet.PointformerNeck', in_channels=(64, 64), levels=(-1, 0),
             radius=(0.4, 1.2), num_samples=(8, 8), num_heads=2))
    return backbone, neck


def test_neck_keeps_contract_and_refines_features(default_scope):
    from dynamicnet.ops import mmdet3d_dispatch  # noqa: F401  (PointNet2SASSG on CPU)
    backbone, neck = _backbone_and_neck(default_scope)
    backbone.eval(), neck.eval()
    points = torch.rand(2, 512, 4)
    with torch.no_grad():
        feats = backbone(points)
        out = neck(feats)
    for key in ('fp_xyz', 'fp_indices', 'sa_xyz', 'sa_features', 'sa_indices'):
        assert out[key] is feats[key]
    for level in range(3):
        assert out['fp_features'][level].shape == feats['fp_features'][level].shape
    assert not torch.allclose(out['fp_features'][-1], feats['fp_features'][-1])
    assert not torch.allclose(out['fp_features'][0], feats['fp_features'][0])
    torch.testing.assert_close(out['fp_features'][1], feats['fp_features'][1])


def test_neck_trains_end_to_end(default_scope):
    from dynamicnet.ops import mmdet3d_dispatch  # noqa: F401
    backbone, neck = _backbone_and_neck(default_scope)
    out = neck(backbone(torch.rand(2, 512, 4)))
    sum(f.sum() for f in out['fp_features']).backward()
    assert all(p.grad is not None for p in neck.parameters())
    assert backbone.SA_modules[0].mlps[0][0].conv.weight.grad is not None


def test_neck_rejects_bad_arguments():
    from dynamicnet.models.necks.pointformer_neck import PointformerNeck
    with pytest.raises(ValueError, match="'fp' or 'sa'"):
        PointformerNeck(key='xyz')
    with pytest.raises(ValueError, match='one width per level'):
        PointformerNeck(in_channels=(64, 64), levels=(-1, ))
