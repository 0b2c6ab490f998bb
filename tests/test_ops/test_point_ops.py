# Copyright (c) dynamicnet contributors. All rights reserved.
"""dynamicnet.ops against brute-force references (CPU) and mmcv's CUDA kernels (GPU, skipped).

The references are written independently of the implementations: Python loops over points in
float64 numpy, following mmcv's kernel code line by line.
"""
import numpy as np
import pytest
import torch

from dynamicnet import ops
from dynamicnet.ops import torch_point_ops


def _cloud(batch=2, num=400, seed=0, clustered=False):
    gen = torch.Generator().manual_seed(seed)
    xyz = torch.rand(batch, num, 3, generator=gen) * torch.tensor([2.0, 2.0, 1.0])
    if clustered:  # dense blobs stress the padding/first-k logic
        centres = torch.rand(batch, 5, 3, generator=gen) * 2
        pick = torch.randint(0, 5, (batch, num), generator=gen)
        xyz = centres.gather(1, pick[..., None].expand(-1, -1, 3)) + 0.05 * torch.randn(
            batch, num, 3, generator=gen)
    return xyz


def _fps_reference(xyz: np.ndarray, num_points: int) -> np.ndarray:
    out = np.zeros((xyz.shape[0], num_points), dtype=np.int64)
    for b, cloud in enumerate(xyz.astype(np.float64)):
        temp = np.full(len(cloud), 1e10)
        old = 0
        for j in range(1, num_points):
            for k in range(len(cloud)):
                d = ((cloud[k] - cloud[old])**2).sum()
                temp[k] = min(temp[k], d)
            old = int(np.argmax(temp))  # first maximum
            out[b, j] = old
    return out


def _ball_query_reference(min_r, max_r, k, xyz, centres):
    xyz, centres = xyz.astype(np.float64), centres.astype(np.float64)
    out = np.zeros(centres.shape[:2] + (k, ), dtype=np.int64)
    for b in range(xyz.shape[0]):
        for m, c in enumerate(centres[b]):
            cnt = 0
            for n, p in enumerate(xyz[b]):
                d2 = ((c - p)**2).sum()
                if d2 == 0 or (min_r**2 <= d2 < max_r**2):
                    if cnt == 0:
                        out[b, m, :] = n
                    out[b, m, cnt] = n
                    cnt += 1
                    if cnt >= k:
                        break
    return out


def test_fps_matches_reference():
    xyz = _cloud(num=300)
    idx = ops.furthest_point_sample(xyz, 40)
    assert idx.dtype == torch.int32 and idx.shape == (2, 40)
    np.testing.assert_array_equal(idx.numpy(), _fps_reference(xyz.numpy(), 40))
    assert (idx[:, 0] == 0).all()
    assert all(len(set(row.tolist())) == 40 for row in idx)  # no repeats before N is used up


def test_fps_ties_go_to_lowest_index():
    # Exactly representable grid: many equal distances, the first maximum must win.
    grid = torch.stack(torch.meshgrid(*[torch.arange(4.)] * 3, indexing='ij'), -1).view(1, -1, 3)
    idx = ops.furthest_point_sample(grid, 10)
    np.testing.assert_array_equal(idx.numpy(), _fps_reference(grid.numpy(), 10))
    assert idx[0, 1].item() == 63  # (3, 3, 3): the unique furthest corner


def test_fps_with_dist_equals_dfps_on_squared_distances():
    xyz = _cloud(num=200, seed=3)
    dist = ((xyz[:, :, None] - xyz[:, None]) ** 2).sum(-1)
    np.testing.assert_array_equal(
        ops.furthest_point_sample_with_dist(dist, 30).numpy(),
        _fps_reference(xyz.numpy(), 30))


@pytest.mark.parametrize('clustered', [False, True])
@pytest.mark.parametrize('min_radius', [0.0, 0.1])
def test_ball_query_matches_reference(clustered, min_radius, monkeypatch):
    xyz = _cloud(num=300, seed=1, clustered=clustered)
    centres = torch.cat([xyz[:, :20], torch.full((2, 3, 3), 9.0)], 1)  # 3 empty balls
    ref = _ball_query_reference(min_radius, 0.3, 16, xyz.numpy(), centres.numpy())
    out = ops.ball_query(min_radius, 0.3, 16, xyz, centres)
    assert out.dtype == torch.int32 and out.shape == (2, 23, 16)
    np.testing.assert_array_equal(out.numpy(), ref)
    assert (out[:, 20:] == 0).all()
    # Tiny chunks: same answer, memory bounded by the chunk size.
    monkeypatch.setattr(torch_point_ops, 'CHUNK_ELEMENTS', 50)
    np.testing.assert_array_equal(ops.ball_query(min_radius, 0.3, 16, xyz, centres).numpy(), ref)


def test_ball_query_radius_boundaries():
    # Distances 0, 0.25, 0.5 (exactly representable); the outer radius is exclusive and a
    # point at distance 0 counts even inside min_radius.
    xyz = torch.tensor([[[0.5, 0, 0], [0.25, 0, 0], [0, 0, 0], [0, 0.25, 0]]])
    centre = torch.zeros(1, 1, 3)
    assert ops.ball_query(0.0, 0.5, 4, xyz, centre).tolist() == [[[1, 2, 3, 1]]]
    assert ops.ball_query(0.3, 0.6, 4, xyz, centre).tolist() == [[[0, 2, 0, 0]]]
    assert ops.ball_query(0.0, 0.5, 2, xyz, centre).tolist() == [[[1, 2]]]


def test_ball_query_large_radius_and_big_cloud_agree_with_dense():
    xyz = _cloud(batch=1, num=3000, seed=5)
    centres = xyz[:, ops.furthest_point_sample(xyz, 64)[0].long()]
    for radius in (0.05, 0.2, 5.0):
        out = ops.ball_query(0.0, radius, 32, xyz, centres)
        d2 = ((centres[0, :, None] - xyz[0, None]) ** 2).sum(-1)
        hits = (d2 < radius**2) | (d2 == 0)
        for m in range(64):
            first = torch.nonzero(hits[m]).flatten()[:32]
            assert out[0, m, :len(first)].tolist() == first.tolist()
            assert (out[0, m, len(first):] == first[0]).all()


def test_grouping_and_gather_values_and_gradients():
    gen = torch.Generator().manual_seed(0)
    feats = torch.randn(2, 5, 30, dtype=torch.float64, generator=gen, requires_grad=True)
    idx = torch.randint(0, 30, (2, 7, 4), generator=gen, dtype=torch.int32)
    grouped = ops.grouping_operation(feats, idx)
    assert grouped.shape == (2, 5, 7, 4)
    for b, m, k in [(0, 0, 0), (1, 6, 3), (1, 2, 1)]:
        torch.testing.assert_close(grouped[b, :, m, k], feats[b, :, idx[b, m, k]])
    assert torch.autograd.gradcheck(lambda f: ops.grouping_operation(f, idx), (feats, ))
    channels_last = ops.grouping_operation_channels_last(feats.transpose(1, 2), idx)
    assert torch.equal(channels_last, grouped.permute(0, 2, 3, 1))
    assert torch.autograd.gradcheck(
        lambda f: ops.grouping_operation_channels_last(f.transpose(1, 2), idx), (feats, ))
    pick = torch.randint(0, 30, (2, 9), generator=gen, dtype=torch.int32)
    gathered = ops.gather_points(feats, pick)
    torch.testing.assert_close(gathered[1, :, 4], feats[1, :, pick[1, 4]])
    assert torch.autograd.gradcheck(lambda f: ops.gather_points(f, pick), (feats, ))


def test_three_nn_and_interpolate():
    gen = torch.Generator().manual_seed(2)
    target = torch.rand(2, 50, 3, generator=gen)
    source = torch.rand(2, 20, 3, generator=gen)
    source[:, 7] = source[:, 3]  # duplicate source: the lower index must come first
    dist, idx = ops.three_nn(target, source)
    d = ((target[:, :, None].double() - source[:, None].double()) ** 2).sum(-1)
    order = np.argsort(d.numpy(), axis=-1, kind='stable')[..., :3]
    np.testing.assert_array_equal(idx.numpy(), order)
    torch.testing.assert_close(dist.double(), d.gather(-1, torch.from_numpy(order)).sqrt(),
                               rtol=1e-5, atol=1e-6)
    # Fewer than three sources: padded with index 0 and infinite distance, like the kernel.
    dist2, idx2 = ops.three_nn(target[:, :4], source[:, :2])
    assert torch.isinf(dist2[..., 2]).all() and (idx2[..., 2] == 0).all()

    feats = torch.randn(2, 6, 20, dtype=torch.float64, generator=gen, requires_grad=True)
    weight = torch.rand(2, 50, 3, dtype=torch.float64, generator=gen, requires_grad=True)
    out = ops.three_interpolate(feats, idx, weight)
    expected = sum(feats[1, :, idx[1, 9, k]] * weight[1, 9, k] for k in range(3))
    torch.testing.assert_close(out[1, :, 9], expected)
    out.sum().backward()
    assert weight.grad is None  # as mmcv: no gradient into the weights
    assert torch.autograd.gradcheck(lambda f: ops.three_interpolate(f, idx, weight.detach()),
                                    (feats, ))


def _boxes(batch=2, num=6, seed=4):
    gen = torch.Generator().manual_seed(seed)
    centre = torch.rand(batch, num, 3, generator=gen) * 2
    size = 0.2 + torch.rand(batch, num, 3, generator=gen)
    yaw = (torch.rand(batch, num, 1, generator=gen) - 0.5) * 6
    return torch.cat([centre, size, yaw], -1)


def test_points_in_boxes_against_reference_and_mmcv_cpu_kernel():
    points = _cloud(num=500, seed=6) * 1.2
    boxes = _boxes()
    inside = ops.points_in_boxes_all(points, boxes)
    assert inside.dtype == torch.int32 and inside.shape == (2, 500, 6)
    ref = np.zeros((2, 500, 6), dtype=np.int32)
    for b in range(2):
        for t, (cx, cy, cz, sx, sy, sz, yaw) in enumerate(boxes[b].tolist()):
            for m, (x, y, z) in enumerate(points[b].tolist()):
                lx = (x - cx) * np.cos(-yaw) - (y - cy) * np.sin(-yaw)
                ly = (x - cx) * np.sin(-yaw) + (y - cy) * np.cos(-yaw)
                ref[b, m, t] = (abs(z - cz - sz / 2) <= sz / 2 and abs(lx) < sx / 2
                                and abs(ly) < sy / 2)
    assert inside.sum() > 20
    np.testing.assert_array_equal(inside.numpy(), ref)
    from mmcv.ops import points_in_boxes_cpu  # mmcv's one CPU kernel among these ops
    np.testing.assert_array_equal(inside.numpy(), points_in_boxes_cpu(points, boxes).numpy())
    part = ops.points_in_boxes_part(points, boxes)
    expected = np.where(ref.any(-1), ref.argmax(-1), -1)
    np.testing.assert_array_equal(part.numpy(), expected)


def test_cpu_tensors_use_pytorch_path():
    assert not ops.uses_mmcv_kernel(torch.zeros(1, 3))


def test_bad_shapes_are_reported():
    with pytest.raises(ValueError, match=r'\(B, N, 3\)'):
        ops.furthest_point_sample(torch.zeros(10, 3), 4)
    with pytest.raises(ValueError, match='min_radius'):
        ops.ball_query(0.5, 0.2, 4, torch.zeros(1, 5, 3), torch.zeros(1, 2, 3))


_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')


@pytest.mark.gpu
@_cuda
def test_cuda_matches_cpu_implementation():
    """On CUDA the dispatcher uses mmcv's kernels (when compiled); compare them with the CPU
    implementation on the same random inputs."""
    xyz = _cloud(num=4000, seed=7)
    cuda = xyz.cuda()
    torch.testing.assert_close(ops.furthest_point_sample(cuda, 256).cpu(),
                               ops.furthest_point_sample(xyz, 256), rtol=0, atol=0)
    centres = xyz[:, :128].contiguous()
    torch.testing.assert_close(ops.ball_query(0, 0.2, 32, cuda, centres.cuda()).cpu(),
                               ops.ball_query(0, 0.2, 32, xyz, centres), rtol=0, atol=0)
    dist_c, idx_c = ops.three_nn(cuda, centres.cuda())
    dist, idx = ops.three_nn(xyz, centres)
    torch.testing.assert_close(idx_c.cpu(), idx, rtol=0, atol=0)
    torch.testing.assert_close(dist_c.cpu(), dist, rtol=1e-5, atol=1e-5)
    feats = torch.randn(2, 8, 128)
    weight = torch.rand(2, 4000, 3)
    torch.testing.assert_close(ops.three_interpolate(feats.cuda(), idx_c, weight.cuda()).cpu(),
                               ops.three_interpolate(feats, idx, weight), rtol=1e-5, atol=1e-5)
    boxes = _boxes()
    torch.testing.assert_close(ops.points_in_boxes_all(cuda, boxes.cuda()).cpu(),
                               ops.points_in_boxes_all(xyz, boxes), rtol=0, atol=0)
