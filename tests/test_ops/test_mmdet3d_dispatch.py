# Copyright (c) dynamicnet contributors. All rights reserved.
"""The one-line switch: mmdet3d's own point modules run on CPU through dynamicnet.ops."""
import pytest
import torch

pytest.importorskip('mmdet3d')


def test_switch_rebinds_every_target():
    from dynamicnet.ops import mmdet3d_dispatch, point_ops
    rebound = mmdet3d_dispatch.enable()  # idempotent
    assert mmdet3d_dispatch.is_enabled()
    assert ('mmdet3d.models.dense_heads.vote_head', 'furthest_point_sample') in rebound
    import mmcv.ops
    from mmdet3d.models.layers.pointnet_modules import point_fp_module
    assert point_fp_module.three_nn is point_ops.three_nn
    assert mmcv.ops.ball_query is point_ops.ball_query
    # mmcv's own function objects stay where they are defined.
    import importlib
    assert importlib.import_module('mmcv.ops.ball_query').ball_query is not point_ops.ball_query


def test_upstream_sa_and_fp_modules_run_on_cpu():
    from dynamicnet import ops
    from dynamicnet.ops import mmdet3d_dispatch  # noqa: F401
    from mmdet3d.models.layers import PointFPModule, PointSAModule
    torch.manual_seed(0)
    sa = PointSAModule(num_point=32, radius=0.3, num_sample=8, mlp_channels=[1, 16],
                       normalize_xyz=True).eval()
    xyz = torch.rand(2, 256, 3)
    feats = torch.rand(2, 1, 256)
    with torch.no_grad():
        new_xyz, new_feats, idx = sa(xyz, feats)
    # Same computation by hand with dynamicnet.ops: FPS from 0, ball query, relative xyz / r.
    ref_idx = ops.furthest_point_sample(xyz, 32)
    assert torch.equal(idx, ref_idx)
    centres = ops.gather_points(xyz.transpose(1, 2).contiguous(), ref_idx).transpose(1, 2)
    torch.testing.assert_close(new_xyz, centres)
    ball = ops.ball_query(0, 0.3, 8, xyz, centres)
    rel = (ops.grouping_operation(xyz.transpose(1, 2).contiguous(), ball)
           - centres.transpose(1, 2).unsqueeze(-1)) / 0.3
    grouped = torch.cat([rel, ops.grouping_operation(feats, ball)], 1)
    with torch.no_grad():
        expected = sa.mlps[0](grouped).max(-1).values
    torch.testing.assert_close(new_feats, expected)

    fp = PointFPModule(mlp_channels=[16 + 1, 8]).eval()
    with torch.no_grad():
        out = fp(xyz, new_xyz, feats, new_feats)
    assert out.shape == (2, 8, 256) and torch.isfinite(out).all()
