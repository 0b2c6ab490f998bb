# Copyright (c) dynamicnet contributors. All rights reserved.
"""Geometry shared by the indoor 3D generators (ScanNet, SUN RGB-D).

Objects are boxes with class-specific sizes (the per-class mean sizes of mmdet3d's VoteNet
configs) standing on a floor; points are sampled on their faces, so votes from surface points to
box centres and size classes are learnable, as on the real data. Units are metres; coordinates
follow mmdet3d's depth frame (x right, y forward, z up).
"""
import math
import os.path as osp
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ._common import dump_pkl

__all__ = [
    'sample_box_surface', 'sample_rectangle', 'place_footprints', 'box_corners', 'points_in_box'
]


def _rot_z(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def box_corners(center: Sequence[float], size: Sequence[float], yaw: float = 0.0) -> np.ndarray:
    """The 8 corners ``(8, 3)`` of a box given its gravity centre, ``(dx, dy, dz)`` and yaw."""
    signs = np.array([[sx, sy, sz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    local = signs * (np.asarray(size) / 2.0)
    return local @ _rot_z(yaw).T + np.asarray(center)


def points_in_box(points: np.ndarray,
                  center: Sequence[float],
                  size: Sequence[float],
                  yaw: float = 0.0,
                  margin: float = 0.0) -> np.ndarray:
    """Boolean mask of the ``(N, >=3)`` points inside a yawed box enlarged by ``margin``."""
    local = (points[:, :3] - np.asarray(center)) @ _rot_z(yaw)
    return np.all(np.abs(local) <= np.asarray(size) / 2.0 + margin, axis=1)


def sample_box_surface(rng: np.random.Generator,
                       num: int,
                       center: Sequence[float],
                       size: Sequence[float],
                       yaw: float = 0.0,
                       viewpoint: Optional[Sequence[float]] = None,
                       noise: float = 0.005) -> np.ndarray:
    """Sample ``num`` points on the top and side faces of a box (not the bottom face).

    Args:
        rng: Random generator.
        num: Number of points.
        center: Gravity centre ``(x, y, z)``.
        size: ``(dx, dy, dz)`` along the box's own axes.
        yaw: Rotation about z in radians.
        viewpoint: If given, only faces whose outward normal points towards it are sampled,
            as a single depth view sees them (SUN RGB-D).
        noise: Standard deviation of Gaussian jitter in metres.

    Returns:
        ``(num, 3)`` float64 points.
    """
    dx, dy, dz = (float(v) for v in size)
    # (normal axis, sign, area): +z top, then the four sides.
    faces = [(2, 1, dx * dy), (0, 1, dy * dz), (0, -1, dy * dz), (1, 1, dx * dz), (1, -1, dx * dz)]
    rot = _rot_z(yaw)
    if viewpoint is not None:
        visible = []
        for axis, sign, area in faces:
            normal = rot[:, axis] * sign
            face_center = np.asarray(center) + normal * (np.array([dx, dy, dz])[axis] / 2)
            if np.dot(normal, np.asarray(viewpoint) - face_center) > 0:
                visible.append((axis, sign, area))
        faces = visible or faces[:1]
    areas = np.array([f[2] for f in faces])
    counts = rng.multinomial(num, areas / areas.sum())
    half = np.array([dx, dy, dz]) / 2.0
    chunks = []
    for (axis, sign, _), n in zip(faces, counts):
        local = rng.uniform(-1.0, 1.0, (n, 3)) * half
        local[:, axis] = sign * half[axis]
        chunks.append(local)
    local = np.concatenate(chunks, axis=0) + rng.normal(0.0, noise, (num, 3))
    return local @ rot.T + np.asarray(center)


def sample_rectangle(rng: np.random.Generator,
                     num: int,
                     lo: Sequence[float],
                     hi: Sequence[float],
                     noise: float = 0.005) -> np.ndarray:
    """Uniform points in the axis-aligned box ``[lo, hi]`` (a flat rectangle when one extent
    is zero: floors and walls), ``(num, 3)``."""
    lo, hi = np.asarray(lo, dtype=np.float64), np.asarray(hi, dtype=np.float64)
    return rng.uniform(lo, hi, (num, 3)) + rng.normal(0.0, noise, (num, 3))


def place_footprints(rng: np.random.Generator,
                     sizes: Sequence[Tuple[float, float]],
                     x_range: Tuple[float, float],
                     y_range: Tuple[float, float],
                     gap: float = 0.15,
                     tries: int = 200) -> List[Optional[Tuple[float, float]]]:
    """Place non-overlapping footprints (tested by their bounding circles, so any yaw fits)
    in a rectangle, in the given order.

    Returns:
        For each footprint its ``(x, y)`` centre, or ``None`` where no free spot was found.
    """
    placed: List[Tuple[float, float, float]] = []
    centres: List[Optional[Tuple[float, float]]] = []
    for sx, sy in sizes:
        radius = 0.5 * math.hypot(sx, sy)
        lo_x, hi_x = x_range[0] + radius, x_range[1] - radius
        lo_y, hi_y = y_range[0] + radius, y_range[1] - radius
        found = None
        if lo_x < hi_x and lo_y < hi_y:
            for _ in range(tries):
                x, y = rng.uniform(lo_x, hi_x), rng.uniform(lo_y, hi_y)
                if all(math.hypot(x - px, y - py) > radius + pr + gap for px, py, pr in placed):
                    found = (x, y)
                    break
        if found is not None:
            placed.append((found[0], found[1], radius))
        centres.append(found)
    return centres


def dump_v2_infos(out_dir: str, dataset: str, classes: Sequence[str], split: str,
                  data_list: List[dict]) -> str:
    """Write mmdet3d's v2 info file ``<dataset>_infos_<split>.pkl``; returns its file name.

    The layout is what ``update_infos_to_v2.py`` produces: ``metainfo`` with the category ids,
    the dataset name and ``info_version='1.1'``, and the per-scene ``data_list``.
    """
    name = f'{dataset}_infos_{split}.pkl'
    infos = dict(
        metainfo=dict(
            categories={cls: i for i, cls in enumerate(classes)},
            dataset=dataset,
            info_version='1.1'),
        data_list=data_list)
    dump_pkl(infos, osp.join(out_dir, name))
    return name
