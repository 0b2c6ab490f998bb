# Copyright (c) dynamicnet contributors. All rights reserved.
"""Point-cloud ops in plain PyTorch, with the semantics of mmcv 2.1.0's CUDA kernels.

mmcv has CUDA kernels only for these ops (``../shared/specs/openmmlab.md`` §5). The functions here
run on any device (the dispatcher in :mod:`dynamicnet.ops.point_ops` uses them for CPU tensors) and
reproduce the kernels' results exactly, including their conventions:

* furthest point sampling starts at index 0 and keeps the running minimum squared distance,
  initialised to ``1e10``; ties go to the lowest index;
* ball query keeps the first ``sample_num`` in-ball points **in index order** (a point at distance
  0 always counts, ``min_radius² <= d² < max_radius²`` otherwise), pads with the first hit, and
  leaves zeros where the ball is empty;
* three-NN returns the three nearest sources in increasing distance, ties broken by index, padded
  with index 0 and an infinite distance when fewer than three sources exist;
* points-in-boxes uses bottom-centred boxes, an inclusive height test and strict in-plane tests.

Squared distances are formed per coordinate, ``dx·dx + dy·dy + dz·dz``, as the kernels do: the
``|a|² - 2a·b + |b|²`` expansion would move points across the radius and change FPS decisions.
Distance matrices are processed in chunks of at most :data:`CHUNK_ELEMENTS` entries, so memory is
bounded for any cloud size; the only Python loop over points is FPS's inherently sequential one.

Gradients follow mmcv: grouping, gathering and interpolation back-propagate into ``features``
(through :func:`torch.gather`), interpolation weights and all index outputs get none.
"""
import contextlib
from typing import Iterator, Tuple

import numpy as np
import torch
from torch import Tensor

__all__ = [
    'CHUNK_ELEMENTS', 'furthest_point_sample_torch', 'furthest_point_sample_with_dist_torch',
    'ball_query_torch', 'grouping_operation_torch', 'gather_points_torch', 'three_nn_torch',
    'three_interpolate_torch', 'points_in_boxes_all_torch', 'points_in_boxes_part_torch'
]

#: Largest number of pairwise entries (distance matrix elements) materialised at once.
CHUNK_ELEMENTS = 1 << 22


def _check_xyz(name: str, xyz: Tensor) -> None:
    if xyz.dim() != 3 or xyz.shape[-1] != 3:
        raise ValueError(f'{name} must have shape (B, N, 3), got {tuple(xyz.shape)}')


def _square_dist(points: Tensor, centers: Tensor) -> Tensor:
    """Squared distances, formed per coordinate like the CUDA kernels.

    Args:
        points: (B, N, 3) points.
        centers: (B, M, 3) query points.

    Returns:
        (B, M, N) squared Euclidean distances.
    """
    diff = centers[:, :, None, 0] - points[:, None, :, 0]
    dist = diff * diff
    for dim in (1, 2):
        diff = centers[:, :, None, dim] - points[:, None, :, dim]
        dist.addcmul_(diff, diff)
    return dist


@contextlib.contextmanager
def _sequential_steps(device: torch.device) -> Iterator[None]:
    """Run FPS's many small sequential steps on one CPU thread.

    Each step touches only N values; splitting it over OpenMP threads costs more in fork/join
    than it saves, and on a loaded machine a descheduled worker stalls every step (measured: FPS
    40,000 -> 2,048 took 3.3 s with 2 threads and 0.2 s with 1 on the project's 2-core machine).
    """
    threads = torch.get_num_threads()
    if device.type != 'cpu' or threads == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _rows_per_chunk(batch: int, width: int) -> int:
    return max(1, CHUNK_ELEMENTS // max(1, batch * width))


def furthest_point_sample_torch(points_xyz: Tensor, num_points: int) -> Tensor:
    """Iterative furthest point sampling (D-FPS) from index 0.

    Args:
        points_xyz: (B, N, 3) coordinates.
        num_points: Number M of points to sample.

    Returns:
        (B, M) int32 indices into N.
    """
    _check_xyz('points_xyz', points_xyz)
    batch, num = points_xyz.shape[:2]
    indices = torch.zeros((batch, num_points), dtype=torch.int32, device=points_xyz.device)
    if num_points <= 1 or num == 0:
        return indices
    with torch.no_grad(), _sequential_steps(points_xyz.device):
        coords = [c.contiguous() for c in points_xyz.detach().unbind(-1)]
        min_dist = points_xyz.new_full((batch, num), 1e10)
        dist = torch.empty_like(min_dist)
        diff = torch.empty_like(min_dist)
        last = torch.zeros((batch, 1), dtype=torch.long, device=points_xyz.device)
        chosen = [last]
        for _ in range(1, num_points):
            torch.sub(coords[0], coords[0].gather(1, last), out=dist)
            dist.mul_(dist)
            for coord in coords[1:]:
                torch.sub(coord, coord.gather(1, last), out=diff)
                dist.addcmul_(diff, diff)
            torch.minimum(min_dist, dist, out=min_dist)
            last = min_dist.argmax(dim=1, keepdim=True)
            chosen.append(last)
        indices.copy_(torch.cat(chosen, dim=1))
    return indices


def furthest_point_sample_with_dist_torch(points_dist: Tensor, num_points: int) -> Tensor:
    """Furthest point sampling on a precomputed distance matrix, from index 0.

    Args:
        points_dist: (B, N, N) pairwise distances (any monotone measure, e.g. squared).
        num_points: Number M of points to sample.

    Returns:
        (B, M) int32 indices into N.
    """
    if points_dist.dim() != 3 or points_dist.shape[1] != points_dist.shape[2]:
        raise ValueError(f'points_dist must have shape (B, N, N), got {tuple(points_dist.shape)}')
    batch, num = points_dist.shape[:2]
    indices = torch.zeros((batch, num_points), dtype=torch.int32, device=points_dist.device)
    if num_points <= 1 or num == 0:
        return indices
    with torch.no_grad(), _sequential_steps(points_dist.device):
        dist = points_dist.detach()
        min_dist = dist.new_full((batch, num), 1e10)
        last = torch.zeros((batch, 1, 1), dtype=torch.long, device=dist.device)
        chosen = [last.view(batch, 1)]
        for _ in range(1, num_points):
            row = dist.gather(1, last.expand(batch, 1, num)).view(batch, num)
            torch.minimum(min_dist, row, out=min_dist)
            last = min_dist.argmax(dim=1).view(batch, 1, 1)
            chosen.append(last.view(batch, 1))
        indices.copy_(torch.cat(chosen, dim=1))
    return indices


def _cell_keys(cells: Tensor, dims: Tuple[int, int, int]) -> Tensor:
    """Linear key of integer cells (B, ..., 3) with the batch index as the slowest axis."""
    batch = torch.arange(cells.shape[0], device=cells.device).view(-1, *([1] * (cells.dim() - 2)))
    return ((batch * dims[0] + cells[..., 0]) * dims[1] + cells[..., 1]) * dims[2] + cells[..., 2]


def ball_query_torch(min_radius: float, max_radius: float, sample_num: int, xyz: Tensor,
                     center_xyz: Tensor) -> Tensor:
    """First ``sample_num`` points (in index order) within a ball around each centre.

    Candidates come from a voxel grid of cell size ``max_radius``: a ball meets at most the 27
    cells around its centre's cell, so only those points are measured. Points are sorted by
    cell (stably, keeping index order inside a cell) and each centre's candidates are the 27
    contiguous runs of that order; the hits are then ranked by point index.

    Args:
        min_radius: Inner radius (points at distance 0 are always kept).
        max_radius: Outer radius (exclusive).
        sample_num: Number of indices per ball.
        xyz: (B, N, 3) points.
        center_xyz: (B, M, 3) ball centres.

    Returns:
        (B, M, sample_num) int32 indices into N, padded with the first hit; all 0 for an empty
        ball.
    """
    _check_xyz('xyz', xyz)
    _check_xyz('center_xyz', center_xyz)
    if not min_radius < max_radius:
        raise ValueError(f'min_radius ({min_radius}) must be below max_radius ({max_radius})')
    batch, num = xyz.shape[:2]
    num_centers = center_xyz.shape[1]
    device = xyz.device
    out = torch.zeros((batch, num_centers, sample_num), dtype=torch.int32, device=device)
    if num == 0 or num_centers == 0 or sample_num == 0:
        return out
    # The kernel squares the radii in float32.
    min_r2 = float(np.float32(min_radius) * np.float32(min_radius))
    max_r2 = float(np.float32(max_radius) * np.float32(max_radius))
    with torch.no_grad():
        points = xyz.detach().reshape(-1, 3)
        centers = center_xyz.detach().reshape(-1, 3)
        # Cells are computed in float64 and slightly enlarged, so a point closer than the radius
        # is never more than one cell away despite rounding.
        cell = float(max_radius) * (1 + 1e-6)
        origin = torch.minimum(xyz.detach().amin(1), center_xyz.detach().amin(1)).double()
        point_cells, center_cells = (
            ((v.detach().double() - origin[:, None]) / cell).floor().long() + 1
            for v in (xyz, center_xyz))
        dims = tuple(int(v) + 2 for v in torch.maximum(
            point_cells.reshape(-1, 3).amax(0), center_cells.reshape(-1, 3).amax(0)))
        point_keys = _cell_keys(point_cells, dims).reshape(-1)
        sorted_keys, order = torch.sort(point_keys, stable=True)
        offsets = torch.stack(torch.meshgrid(*([torch.arange(-1, 2, device=device)] * 3),
                                             indexing='ij'), dim=-1).view(27, 3)
        neighbour_keys = _cell_keys(center_cells.unsqueeze(2) + offsets, dims).reshape(-1, 27)
        starts = torch.searchsorted(sorted_keys, neighbour_keys)
        counts = torch.searchsorted(sorted_keys, neighbour_keys, right=True) - starts
        row_totals = counts.sum(1)
        # Split the centres into chunks of at most CHUNK_ELEMENTS candidate pairs.
        limits = torch.arange(CHUNK_ELEMENTS, max(int(row_totals.sum()), CHUNK_ELEMENTS),
                              CHUNK_ELEMENTS, device=device)
        bounds = torch.searchsorted(torch.cumsum(row_totals, 0), limits, right=True).tolist()
        edges = sorted({0, batch * num_centers, *(max(b, 1) for b in bounds)})
        flat_out = out.view(-1, sample_num)
        slots = torch.arange(sample_num, device=device)
        for first_row, end_row in zip(edges[:-1], edges[1:]):
            rows = end_row - first_row
            run_len = counts[first_row:end_row].reshape(-1)
            run = torch.repeat_interleave(torch.arange(run_len.numel(), device=device), run_len)
            run_begin = torch.cumsum(run_len, 0) - run_len
            pos = starts[first_row:end_row].reshape(-1)[run] + (
                torch.arange(run.numel(), device=device) - run_begin[run])
            cand = order[pos]
            row = first_row + torch.div(run, 27, rounding_mode='floor')
            diff = centers[row] - points[cand]
            dist = diff[:, 0] * diff[:, 0]
            dist.addcmul_(diff[:, 1], diff[:, 1]).addcmul_(diff[:, 2], diff[:, 2])
            in_ball = (dist >= min_r2) & (dist < max_r2) if min_r2 > 0 else dist < max_r2
            in_ball |= dist == 0
            # Sort the hits by (centre, point index); a hit's rank inside its ball is then its
            # position minus the position of the ball's first hit.
            hit_row = row[in_ball] - first_row
            hit_key, _ = torch.sort(hit_row * num + cand[in_ball] % num)
            hit_row = torch.div(hit_key, num, rounding_mode='floor')
            hit_point = (hit_key - hit_row * num).to(torch.int32)
            per_row = torch.bincount(hit_row, minlength=rows)
            rank = torch.arange(hit_key.numel(), device=device) - (torch.cumsum(per_row, 0) -
                                                                   per_row)[hit_row]
            keep = rank < sample_num
            chunk = torch.zeros((rows, sample_num), dtype=torch.int32, device=device)
            chunk[hit_row[keep], rank[keep]] = hit_point[keep]
            filled = per_row.clamp(max=sample_num).unsqueeze(1)
            flat_out[first_row:end_row] = torch.where(slots < filled, chunk, chunk[:, :1])
    return out


def grouping_operation_torch(features: Tensor, indices: Tensor) -> Tensor:
    """Gather neighbourhoods of features.

    Args:
        features: (B, C, N) features.
        indices: (B, M, K) indices into N.

    Returns:
        (B, C, M, K) grouped features (differentiable w.r.t. ``features``).
    """
    batch, channels = features.shape[:2]
    _, num_centers, num_samples = indices.shape
    flat = indices.reshape(batch, 1, num_centers * num_samples).long()
    grouped = features.gather(2, flat.expand(batch, channels, flat.shape[-1]))
    return grouped.view(batch, channels, num_centers, num_samples)


def gather_points_torch(features: Tensor, indices: Tensor) -> Tensor:
    """Gather features of selected points.

    Args:
        features: (B, C, N) features.
        indices: (B, M) indices into N.

    Returns:
        (B, C, M) gathered features (differentiable w.r.t. ``features``).
    """
    batch, channels = features.shape[:2]
    index = indices.long().unsqueeze(1).expand(batch, channels, indices.shape[1])
    return features.gather(2, index)


def three_nn_torch(target: Tensor, source: Tensor) -> Tuple[Tensor, Tensor]:
    """Three nearest source points of every target point.

    Args:
        target: (B, N, 3) query points.
        source: (B, M, 3) reference points.

    Returns:
        ``(dist, idx)``: (B, N, 3) Euclidean distances in increasing order and (B, N, 3) int32
        indices into M (ties by lower index).
    """
    _check_xyz('target', target)
    _check_xyz('source', source)
    batch, num = target.shape[:2]
    num_source = source.shape[1]
    dist = target.new_full((batch, num, 3), float('inf'))
    idx = torch.zeros((batch, num, 3), dtype=torch.int32, device=target.device)
    found = min(3, num_source)
    if num == 0 or found == 0:
        return dist, idx
    step = _rows_per_chunk(batch, num_source)
    with torch.no_grad():
        target, source = target.detach(), source.detach()
        for start in range(0, num, step):
            square = _square_dist(source, target[:, start:start + step])
            # A stable sort keeps equal distances in index order, as the kernel's strict '<' does.
            order = torch.sort(square, dim=-1, stable=True).indices[..., :found]
            stop = start + order.shape[1]
            dist[:, start:stop, :found] = square.gather(-1, order).sqrt()
            idx[:, start:stop, :found] = order.to(torch.int32)
    return dist, idx


def three_interpolate_torch(features: Tensor, indices: Tensor, weight: Tensor) -> Tensor:
    """Weighted sum of three source features per target point.

    Args:
        features: (B, C, M) source features.
        indices: (B, N, 3) indices into M.
        weight: (B, N, 3) weights (receive no gradient, as in mmcv).

    Returns:
        (B, C, N) interpolated features.
    """
    batch, channels = features.shape[:2]
    num = indices.shape[1]
    flat = indices.reshape(batch, 1, num * 3).long().expand(batch, channels, num * 3)
    grouped = features.gather(2, flat).view(batch, channels, num, 3)
    return (grouped * weight.detach().unsqueeze(1)).sum(-1)


def _points_in_boxes_mask(points: Tensor, boxes: Tensor) -> Tensor:
    """(B, M, T) bool: point m lies in box t (bottom-centred boxes, yaw about z)."""
    if points.dim() != 3 or points.shape[-1] != 3:
        raise ValueError(f'points must have shape (B, M, 3), got {tuple(points.shape)}')
    if boxes.dim() != 3 or boxes.shape[-1] != 7 or boxes.shape[0] != points.shape[0]:
        raise ValueError(f'boxes must have shape (B, T, 7) with the batch size of points '
                         f'{tuple(points.shape)}, got {tuple(boxes.shape)}')
    batch, num = points.shape[:2]
    num_boxes = boxes.shape[1]
    inside = torch.zeros((batch, num, num_boxes), dtype=torch.bool, device=points.device)
    if num == 0 or num_boxes == 0:
        return inside
    boxes = boxes.to(points.dtype)
    cx, cy, cz, x_size, y_size, z_size, yaw = (v[:, None, :] for v in boxes.unbind(-1))
    cz = cz + z_size / 2
    cos, sin = torch.cos(-yaw), torch.sin(-yaw)
    step = _rows_per_chunk(batch, num_boxes)
    for start in range(0, num, step):
        x, y, z = (v[:, :, None] for v in points[:, start:start + step].unbind(-1))
        shift_x, shift_y = x - cx, y - cy
        local_x = shift_x * cos + shift_y * -sin
        local_y = shift_x * sin + shift_y * cos
        inside[:, start:start + step] = (
            ((z - cz).abs() <= z_size / 2)
            & (local_x > -x_size / 2) & (local_x < x_size / 2)
            & (local_y > -y_size / 2) & (local_y < y_size / 2))
    return inside


def points_in_boxes_all_torch(points: Tensor, boxes: Tensor) -> Tensor:
    """Membership of every point in every box.

    Args:
        points: (B, M, 3) points.
        boxes: (B, T, 7) boxes ``(x, y, z, x_size, y_size, z_size, yaw)``, ``z`` at the bottom.

    Returns:
        (B, M, T) int32, 1 where the point is inside the box.
    """
    return _points_in_boxes_mask(points, boxes).to(torch.int32)


def points_in_boxes_part_torch(points: Tensor, boxes: Tensor) -> Tensor:
    """Index of the first box containing each point.

    Args:
        points: (B, M, 3) points.
        boxes: (B, T, 7) boxes as in :func:`points_in_boxes_all_torch`.

    Returns:
        (B, M) int32 box index, -1 for points in no box.
    """
    inside = _points_in_boxes_mask(points, boxes)
    if inside.shape[-1] == 0:
        return torch.full(inside.shape[:2], -1, dtype=torch.int32, device=points.device)
    first = inside.to(torch.uint8).argmax(dim=-1).to(torch.int32)
    return torch.where(inside.any(dim=-1), first, torch.full_like(first, -1))
