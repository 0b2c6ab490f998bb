# Copyright (c) dynamicnet contributors. All rights reserved.
"""Pointformer blocks against an independent implementation of ``../shared/specs/pointformer.md``
§3, §4 and §6, written from the spec's formulas with nothing but the state dict: textbook FPS,
ball query by sorted distances, explicit per-head softmax attention, the two encoder-layer
variants, max-pool, 1×1 convolutions as matrix products."""
import pytest
import torch
import torch.nn.functional as F

pytest.importorskip('mmdet3d')

from dynamicnet.models.backbones.pointformer import Pointformer  # noqa: E402


def _fps(xyz, num):
    """Furthest point sampling from index 0; xyz (N, 3)."""
    chosen, dist = [0], torch.full((len(xyz), ), float('inf'), dtype=xyz.dtype)
    for _ in range(num - 1):
        dist = torch.minimum(dist, ((xyz - xyz[chosen[-1]])**2).sum(-1))
        chosen.append(int(dist.argmax()))
    return torch.tensor(chosen)


def _ball_query(xyz, centre, radius, num):
    """First ``num`` points within ``radius`` in index order, padded with the first one."""
    hits = torch.nonzero(((xyz - centre)**2).sum(-1) < radius**2).flatten()[:num]
    return torch.cat([hits, hits[:1].expand(num - len(hits))])


def _mlp_position_encoding(p, prefix, xyz):
    """δ: 1×1 conv (no bias: BN follows), BN (eval statistics), ReLU, 1×1 conv on (T, 3)."""
    assert f'{prefix}.0.conv.bias' not in p
    h = xyz @ p[f'{prefix}.0.conv.weight'].flatten(1).T
    h = (h - p[f'{prefix}.0.bn.running_mean']) / torch.sqrt(p[f'{prefix}.0.bn.running_var'] + 1e-5)
    h = torch.relu(h * p[f'{prefix}.0.bn.weight'] + p[f'{prefix}.0.bn.bias'])
    return h @ p[f'{prefix}.1.conv.weight'].flatten(1).T + p[f'{prefix}.1.conv.bias']


def _attention(p, prefix, x, heads):
    """Multi-head self-attention on one sequence x (L, C)."""
    dim = x.shape[1]
    q, k, v = (x @ p[f'{prefix}.in_proj_weight'].T + p[f'{prefix}.in_proj_bias']).split(dim, -1)
    outs = []
    for h in range(heads):
        s = slice(h * dim // heads, (h + 1) * dim // heads)
        scores = q[:, s] @ k[:, s].T / (dim // heads)**0.5
        outs.append(scores.softmax(-1) @ v[:, s])
    return torch.cat(outs, -1) @ p[f'{prefix}.out_proj.weight'].T + p[f'{prefix}.out_proj.bias']


def _layer_norm(p, prefix, x):
    return F.layer_norm(x, x.shape[-1:], p[f'{prefix}.weight'], p[f'{prefix}.bias'])


def _encoder_layer(p, prefix, x, heads, prenorm):
    """§6: the official 'prenorm' layer or PyTorch's post-norm layer."""

    def ffn(y):
        hidden = torch.relu(y @ p[f'{prefix}.linear1.weight'].T + p[f'{prefix}.linear1.bias'])
        return hidden @ p[f'{prefix}.linear2.weight'].T + p[f'{prefix}.linear2.bias']

    if prenorm:
        x = _layer_norm(p, f'{prefix}.norm1', x)
        x = _layer_norm(p, f'{prefix}.norm2', x + _attention(p, f'{prefix}.self_attn', x, heads))
        return x + ffn(x)
    x = _layer_norm(p, f'{prefix}.norm1', x + _attention(p, f'{prefix}.self_attn', x, heads))
    return _layer_norm(p, f'{prefix}.norm2', x + ffn(x))


def _conv1x1(p, prefix, x):
    return x @ p[f'{prefix}.conv.weight'].flatten(1).T + p[f'{prefix}.conv.bias']


def _reference_block(p, prefix, xyz, features, *, num_point, radius, num_sample, heads, layers,
                     prenorm):
    """One Pointformer block (§3 local, §4 global) on one cloud: xyz (N, 3), features (N, C)."""
    centre_idx = _fps(xyz, num_point)
    centres = xyz[centre_idx]
    local = []
    for centre in centres:
        idx = _ball_query(xyz, centre, radius, num_sample)
        x = features[idx] + _mlp_position_encoding(p, f'{prefix}.local_transformer.pos_enc',
                                                   xyz[idx] - centre)
        for i in range(layers):
            x = _encoder_layer(p, f'{prefix}.local_transformer.encoder.{i}', x, heads, prenorm)
        local.append(x.max(0).values)
    x = _conv1x1(p, f'{prefix}.local_transformer.out_conv', torch.stack(local))
    x = x + _mlp_position_encoding(p, f'{prefix}.global_transformer.pos_enc', centres)
    for i in range(layers):
        x = _encoder_layer(p, f'{prefix}.global_transformer.encoder.{i}', x, heads, prenorm)
    return centre_idx, _conv1x1(p, f'{prefix}.global_transformer.out_conv', x)


@pytest.mark.parametrize('prenorm', [True, False])
def test_blocks_equal_an_independent_implementation_of_the_spec(prenorm):
    torch.manual_seed(0)
    cfg = dict(num_points=(64, 32, 16, 8), radius=(0.3, 0.5, 0.8, 1.2), num_samples=(8, 8, 4, 4),
               basic_channels=16, num_heads=2, fp_channels=((32, 32), ), prenorm=prenorm)
    model = Pointformer(**cfg).double()
    for module in model.modules():  # non-trivial BN statistics for the position encodings
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    model.eval()
    gen = torch.Generator().manual_seed(1)
    xyz = torch.rand(2, 256, 3, generator=gen, dtype=torch.float64) * 2
    points = torch.cat([xyz, xyz[..., 2:] - xyz[..., 2:].amin(1, keepdim=True)], -1)
    with torch.no_grad():
        out = model(points)
    params = model.state_dict()
    for b in range(2):
        features = (points[b, :, 3:] @ params['feature_conv.conv.weight'].flatten(1).T +
                    params['feature_conv.conv.bias'])
        cloud = xyz[b]
        for i in range(2):  # the first two blocks, each fed with the model's own input
            centre_idx, ref = _reference_block(
                params, f'blocks.{i}', cloud, features, num_point=cfg['num_points'][i],
                radius=cfg['radius'][i], num_sample=cfg['num_samples'][i], heads=2, layers=2,
                prenorm=prenorm)
            assert torch.equal(out['sa_xyz'][i + 1][b], cloud[centre_idx])
            torch.testing.assert_close(out['sa_features'][i + 1][b].T, ref, rtol=1e-9, atol=1e-9)
            cloud, features = out['sa_xyz'][i + 1][b], out['sa_features'][i + 1][b].T
