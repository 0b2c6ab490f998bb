# Copyright (c) dynamicnet contributors. All rights reserved.
"""Pointformer backbone: output contract, index consistency, and the invariants of
``../shared/specs/pointformer.md`` §11 (neighbour-order invariance, relative local encoding)."""
import pytest
import torch
from torch import nn

pytest.importorskip('mmdet3d')

from dynamicnet.models.backbones.pointformer import (  # noqa: E402
    LocalTransformer, Pointformer, PointformerEncoderLayer, multi_head_attention)

SMALL = dict(num_points=(256, 128, 64, 32), num_samples=(16, 8, 8, 8), num_heads=2)


def _points(batch=2, num=1024, seed=0, grid=False):
    gen = torch.Generator().manual_seed(seed)
    xyz = torch.rand(batch, num, 3, generator=gen) * torch.tensor([3.0, 3.0, 1.5])
    if grid:  # multiples of 2^-8: translations by whole metres are exact in float32
        xyz = torch.round(xyz * 256) / 256
    height = xyz[..., 2:] - xyz[..., 2:].amin(1, keepdim=True)
    return torch.cat([xyz, height], -1)


def _model(**kwargs):
    torch.manual_seed(0)
    return Pointformer(**{**SMALL, **kwargs}).eval()


def test_output_contract_and_channel_schedule():
    model = _model()
    points = _points()
    with torch.no_grad():
        out = model(points)
    assert [t.shape for t in out['fp_xyz']] == [(2, 32, 3), (2, 64, 3), (2, 128, 3)]
    assert [t.shape for t in out['fp_features']] == [(2, 512, 32), (2, 256, 64), (2, 256, 128)]
    assert [t.shape for t in out['fp_indices']] == [(2, 32), (2, 64), (2, 128)]
    # Local width 64·2^i, global output 2x that, except the last block.
    assert [b.local_transformer.out_conv.conv.out_channels for b in model.blocks] == [
        64, 128, 256, 512]
    assert [b.global_transformer.out_conv.conv.out_channels for b in model.blocks] == [
        128, 256, 512, 512]
    assert [t.shape[1] for t in out['sa_features']] == [64, 128, 256, 512, 512]


def test_indices_gather_back_to_coordinates():
    model = _model()
    points = _points()
    with torch.no_grad():
        out = model(points)
    for xyz, idx in zip(out['fp_xyz'] + out['sa_xyz'], out['fp_indices'] + out['sa_indices']):
        assert idx.dtype == torch.long and idx.min() >= 0 and idx.max() < points.shape[1]
        gathered = points[..., :3].gather(1, idx.unsqueeze(-1).expand(-1, -1, 3))
        assert torch.equal(gathered, xyz)
    # FPS starts at index 0 at every level.
    assert (out['sa_indices'][1][:, 0] == 0).all()


def test_full_scannet_contract_on_4096_points():
    # The spec's contract check (§11) with the released ScanNet widths, at 2 heads to stay fast.
    model = Pointformer(num_heads=2).eval()
    with torch.no_grad():
        out = model(_points(batch=1, num=4096, seed=1))
    assert out['fp_xyz'][-1].shape == (1, 1024, 3)
    assert out['fp_features'][-1].shape == (1, 256, 1024)
    assert out['fp_indices'][-1].shape == (1, 1024)


def test_neighbour_order_invariance():
    torch.manual_seed(0)
    local = LocalTransformer(num_point=32, radius=0.5, num_sample=16, dim=32,
                             num_heads=4).eval()
    gen = torch.Generator().manual_seed(3)
    rel = torch.randn(2, 32, 16, 3, generator=gen) * 0.2
    feats = torch.randn(2, 32, 16, 32, generator=gen)
    perm = torch.randperm(16, generator=gen)
    with torch.no_grad():
        out, _ = local.attend(rel, feats)
        out_perm, _ = local.attend(rel[:, :, perm], feats[:, :, perm])
    torch.testing.assert_close(out_perm, out, rtol=1e-5, atol=1e-5)


def test_relative_local_and_absolute_global_encoding():
    model = _model()
    points = _points(grid=True)
    shifted = points.clone()
    shifted[..., :3] += torch.tensor([4.0, -2.0, 1.0])  # exact: FPS and ball query unchanged
    block = model.blocks[0]
    features = model.feature_conv(points[..., 3:].transpose(1, 2).contiguous())
    with torch.no_grad():
        xyz_a, local_a, idx_a = block.local_transformer(points[..., :3].contiguous(), features)
        xyz_b, local_b, idx_b = block.local_transformer(shifted[..., :3].contiguous(), features)
        global_a = block.global_transformer(xyz_a, local_a)
        global_b = block.global_transformer(xyz_b, local_b)
    assert torch.equal(idx_a, idx_b)
    torch.testing.assert_close(local_b, local_a, rtol=1e-5, atol=1e-5)
    assert (global_a - global_b).abs().max() > 1e-2


def test_local_transformer_uses_relative_coordinates():
    # Pitfall 1 of the spec: the position encoding must see neighbour - centre.
    local = LocalTransformer(num_point=8, radius=0.5, num_sample=4, dim=8, num_heads=2).eval()
    seen = []
    local.pos_enc.register_forward_hook(lambda m, inp, out: seen.append(inp[0]))
    xyz = _points(batch=1, num=64)[..., :3].contiguous() + 10.0
    with torch.no_grad():
        local(xyz, torch.randn(1, 8, 64))
    assert seen[0].abs().max() < 0.5  # absolute coordinates would be around 10


@pytest.mark.parametrize('prenorm', [True, False])
def test_decoder_and_coord_refine_keep_contract(prenorm):
    model = _model(use_decoder=True, coord_refine=(True, False, False, False), prenorm=prenorm)
    points = _points(num=512)
    with torch.no_grad():
        out = model(points)
    assert [t.shape for t in out['fp_features']] == [(2, 512, 32), (2, 256, 64), (2, 256, 128)]
    # Refined centres are attention-weighted means of in-ball neighbours: within the radius.
    fps_xyz = points[..., :3].gather(1, out['sa_indices'][1].unsqueeze(-1).expand(-1, -1, 3))
    shift = (out['sa_xyz'][1] - fps_xyz).norm(dim=-1)
    assert shift.max() < 0.2 and shift.max() > 0


def test_backward_reaches_every_parameter():
    model = _model(use_decoder=True).train()
    out = model(_points(num=512))
    sum(f.sum() for f in out['fp_features']).backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None]
    assert not missing


def test_postnorm_layer_equals_pytorch_encoder_layer():
    torch.manual_seed(0)
    ours = PointformerEncoderLayer(16, 4, 32, 0.0, prenorm=False).eval()
    ref = nn.TransformerEncoderLayer(16, 4, 32, 0.0, batch_first=True).eval()
    ref.load_state_dict(ours.state_dict())
    src = torch.randn(3, 7, 16)
    torch.testing.assert_close(ours(src)[0], ref(src), rtol=1e-5, atol=1e-5)


def test_prenorm_layer_formula():
    torch.manual_seed(0)
    layer = PointformerEncoderLayer(16, 4, 32, 0.0, prenorm=True).eval()
    src = torch.randn(2, 5, 16)
    x = layer.norm1(src).transpose(0, 1)  # nn.MultiheadAttention is sequence-first
    x = layer.norm2(x + layer.self_attn(x, x, x)[0]).transpose(0, 1)
    expected = x + layer.linear2(torch.relu(layer.linear1(x)))
    torch.testing.assert_close(layer(src)[0], expected)


@pytest.mark.parametrize('cross', [False, True])
def test_batch_first_attention_equals_multihead_attention(cross):
    torch.manual_seed(0)
    attn = nn.MultiheadAttention(16, 4).eval()
    query = torch.randn(3, 5, 16)
    memory = torch.randn(3, 9, 16) if cross else query
    ref_out, ref_weights = attn(query.transpose(0, 1), memory.transpose(0, 1),
                                memory.transpose(0, 1))
    out, weights = multi_head_attention(attn, query, memory if cross else None,
                                        need_weights=True)
    torch.testing.assert_close(out, ref_out.transpose(0, 1), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(weights, ref_weights, rtol=1e-5, atol=1e-6)
    fast, none = multi_head_attention(attn, query, memory if cross else None)
    assert none is None
    torch.testing.assert_close(fast, out, rtol=1e-5, atol=1e-6)


def test_bad_inputs_name_what_is_expected():
    model = _model()
    with pytest.raises(ValueError, match=r'\(B, N, 4\).*got \(2, 1024, 6\)'):
        model(torch.zeros(2, 1024, 6))
    with pytest.raises(ValueError, match='100 points.*samples 256'):
        model(torch.zeros(1, 100, 4))
    with pytest.raises(ValueError, match='0 points'):
        model(torch.zeros(1, 0, 4))
    with pytest.raises(ValueError, match='in_channels >= 4'):
        Pointformer(in_channels=3)
