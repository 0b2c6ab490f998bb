# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny SUN RGB-D in the v2 info format mmdet3d 1.4's ``SUNRGBDDataset`` reads.

Layout (as written by mmdet3d's ``tools/create_data.py sunrgbd`` + ``update_infos_to_v2.py``)::

    <root>/points/<idx:06d>.bin                   float32 (N, 6): x, y, z (metres), r, g, b (0..1)
    <root>/sunrgbd_trainval/image/<idx:06d>.jpg   RGB view of the same scene
    <root>/sunrgbd_infos_{train,val}.pkl          v2 infos: {'metainfo': ..., 'data_list': [...]}

Each data info holds ``lidar_points`` (``num_pts_feats=6``), ``images['CAM0']`` (``img_path``,
``depth2img`` = ``K @ [[1,0,0],[0,0,-1],[0,1,0]] @ Rt^T`` with an upright camera ``Rt = I``,
``height``, ``width``) and ``instances`` with ``bbox_3d`` = ``[x, y, z, dx, dy, dz, yaw]``
(gravity centre, upright depth frame: x right, y forward, z up; camera at the origin),
``bbox_label_3d``, the projected 2D ``bbox`` ``[x1, y1, x2, y2]`` and ``bbox_label``.

A scene is a single depth view: floor, back wall and 2-5 yawed boxes of the 10 benchmark classes
with the class mean sizes of mmdet3d's VoteNet SUN RGB-D config and the class palette colour.
Only faces turned towards the camera and points inside the camera frustum are kept, as a depth
sensor sees them; the image is rendered from the same points with a z-buffer.
"""
import math
import os.path as osp
from typing import List, Tuple

import numpy as np

from ._common import child_rng, save_image, write_bin
from ._indoor3d import (box_corners, dump_v2_infos, points_in_box, sample_box_surface,
                        sample_rectangle)

__all__ = ['SUNRGBD_CLASSES', 'SUNRGBD_MEAN_SIZES', 'generate_sunrgbd']

SUNRGBD_CLASSES = ('bed', 'table', 'sofa', 'chair', 'toilet', 'desk', 'dresser', 'night_stand',
                   'bookshelf', 'bathtub')
# (dx, dy, dz) in metres: ``mean_sizes`` of mmdet3d 1.4 ``votenet_8xb16_sunrgbd-3d.py``.
SUNRGBD_MEAN_SIZES = ((2.114256, 1.620300, 0.927272), (0.791118, 1.279516, 0.718182),
                      (0.923508, 1.867419, 0.845495), (0.591958, 0.552978, 0.827272),
                      (0.699104, 0.454178, 0.75625), (0.69519, 1.346299, 0.736364),
                      (0.528526, 1.002642, 1.172878), (0.500618, 0.632163, 0.683424),
                      (0.404671, 1.071108, 1.688889), (0.76584, 1.398258, 0.472728))
# ``SUNRGBDDataset.METAINFO['palette']``
SUNRGBD_PALETTE = ((255, 187, 120), (255, 152, 150), (140, 86, 75), (188, 189, 34), (44, 160, 44),
                   (247, 182, 210), (196, 156, 148), (23, 190, 207), (148, 103, 189), (227, 119,
                                                                                       194))
# Far (>= 60 in RGB) from every class colour, so colour separates objects from the room.
FLOOR_RGB, WALL_RGB = (60, 60, 60), (240, 240, 235)
# Depth frame -> camera frame (x right, y down, z forward): ``update_sunrgbd_infos``' flip.
DEPTH_TO_CAM = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, -1.0], [0.0, 1.0, 0.0]])


def _project(depth2img: np.ndarray, xyz: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates ``(N, 2)`` and depth ``(N,)`` of depth-frame points."""
    uvw = xyz @ depth2img.T
    depth = uvw[:, 2]
    return uvw[:, :2] / np.maximum(depth, 1e-6)[:, None], depth


def _scene(seed: int, split_key: int, index: int, labels: List[int], points_range: Tuple[int, int],
           size_jitter: float,
           image_size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray, np.ndarray, list]:
    rng = child_rng(seed, split_key, index)
    height, width = image_size
    focal = 0.8 * width
    K = np.array([[focal, 0.0, width / 2], [0.0, focal, height / 2], [0.0, 0.0, 1.0]])
    depth2img = K @ DEPTH_TO_CAM  # @ Rt^T with the upright camera Rt = I
    cam_height = rng.uniform(1.0, 1.4)
    floor_z, back_y = -cam_height, rng.uniform(5.5, 7.0)
    half_fov = (width / 2) / focal  # tan of the half horizontal field of view

    sizes = [
        np.asarray(SUNRGBD_MEAN_SIZES[c]) * rng.uniform(1 - size_jitter, 1 + size_jitter, 3)
        for c in labels
    ]
    # Largest footprints first, so every object finds a place.
    order = sorted(range(len(labels)), key=lambda i: -sizes[i][0] * sizes[i][1])
    objects, placed = [], []
    for label, size in ((labels[i], sizes[i]) for i in order):
        radius = 0.5 * math.hypot(size[0], size[1])
        for _ in range(300):
            y = rng.uniform(1.6 + radius, back_y - radius - 0.1)
            # The centre stays in view; a large object may be cut by the image border.
            x = rng.uniform(-1, 1) * max(y * half_fov * 0.9 - 0.5 * radius, 0.0)
            if all(math.hypot(x - px, y - py) > radius + pr + 0.1 for px, py, pr in placed):
                break
        else:
            continue
        placed.append((x, y, radius))
        yaw = rng.uniform(-math.pi, math.pi)
        objects.append((label, np.array([x, y, floor_z + size[2] / 2]), size, yaw))

    surf = [s[0] * s[1] + 2 * s[2] * (s[0] + s[1]) for _, _, s, _ in objects]
    floor_w, wall_h = 2 * back_y * half_fov, 2.6
    weights = np.array([3.0 * a for a in surf] + [back_y * floor_w, 0.3 * floor_w * wall_h])
    total = int(rng.integers(points_range[0], points_range[1] + 1))
    counts = rng.multinomial(total, weights / weights.sum())

    xyz, rgb = [], []
    for (label, centre, size, yaw), n in zip(objects, counts):
        n = max(int(n), 64)
        xyz.append(sample_box_surface(rng, n, centre, size, yaw, viewpoint=(0.0, 0.0, 0.0)))
        rgb.append(np.asarray(SUNRGBD_PALETTE[label]) + rng.normal(0, 10, (n, 3)))
    floor = sample_rectangle(rng, int(counts[len(objects)]), (-floor_w / 2, 0.5, floor_z),
                             (floor_w / 2, back_y, floor_z))
    keep = np.ones(len(floor), dtype=bool)
    for _, centre, size, yaw in objects:
        keep &= ~points_in_box(floor, (centre[0], centre[1], floor_z), (size[0], size[1], 1.0), yaw)
    wall = sample_rectangle(rng, int(counts[-1]), (-floor_w / 2, back_y, floor_z),
                            (floor_w / 2, back_y, floor_z + wall_h))
    xyz += [floor[keep], wall]
    rgb += [
        np.asarray(FLOOR_RGB) + rng.normal(0, 8, (int(keep.sum()), 3)),
        np.asarray(WALL_RGB) + rng.normal(0, 8, (len(wall), 3))
    ]
    xyz, rgb = np.concatenate(xyz), np.clip(np.concatenate(rgb), 0, 255)

    # A depth camera sees only its frustum.
    uv, depth = _project(depth2img, xyz)
    visible = (depth > 0.1) & (uv[:, 0] >= 0) & (uv[:, 0] < width) & (uv[:, 1] >= 0) & (
        uv[:, 1] < height)
    xyz, rgb, uv, depth = xyz[visible], rgb[visible], uv[visible], depth[visible]
    order = rng.permutation(len(xyz))
    xyz, rgb, uv, depth = xyz[order], rgb[order], uv[order], depth[order]
    points = np.concatenate([xyz, rgb / 255.0], axis=1).astype(np.float32)

    # Render far to near so nearer points overwrite; 2x2 splats close the gaps.
    image = np.full((height, width, 3), 40, dtype=np.uint8)
    far_to_near = np.argsort(-depth, kind='stable')
    px = np.floor(uv[far_to_near]).astype(np.int64)
    colours = rgb[far_to_near].astype(np.uint8)
    for dx in (0, 1):
        for dy in (0, 1):
            image[np.minimum(px[:, 1] + dy, height - 1), np.minimum(px[:, 0] + dx, width - 1)] = \
                colours

    instances = []
    for label, centre, size, yaw in objects:
        corners_uv, _ = _project(depth2img, box_corners(centre, size, yaw))
        x1, y1 = np.clip(corners_uv.min(axis=0), 0, [width - 1, height - 1])
        x2, y2 = np.clip(corners_uv.max(axis=0), 0, [width - 1, height - 1])
        instances.append(
            dict(
                bbox=[float(x1), float(y1), float(x2), float(y2)],
                bbox_label=int(label),
                bbox_3d=[float(v) for v in (*centre, *size, yaw)],
                bbox_label_3d=int(label)))
    return points, image, depth2img, instances


def generate_sunrgbd(
    out_dir: str,
    seed: int = 0,
    num_train: int = 8,
    num_val: int = 4,
    points_per_scene: Tuple[int, int] = (8000, 14000),
    objects_per_scene: Tuple[int, int] = (2, 5),
    size_jitter: float = 0.1,
    image_size: Tuple[int, int] = (120, 160)) -> List[str]:  # noqa: E125 (yapf layout)
    """Write a tiny SUN RGB-D into ``out_dir``.

    Args:
        out_dir: Dataset root (``data_root`` of ``SUNRGBDDataset``).
        seed: Random seed.
        num_train: Number of training scenes.
        num_val: Number of validation scenes.
        points_per_scene: Inclusive range of sampled points before the frustum cut.
        objects_per_scene: Inclusive range of objects per scene.
        size_jitter: Relative uniform jitter of each box dimension around the class mean size.
        image_size: ``(height, width)`` of the rendered images.

    Returns:
        Summary lines of what was written.
    """
    summary = []
    # SUN RGB-D numbers val scenes 1..5050 and train scenes 5051..10335.
    splits = (('train', num_train, 5051), ('val', num_val, 1))
    for split_key, (split, count, first) in enumerate(splits):
        rng = child_rng(seed, 100 + split_key)
        num_objects = rng.integers(objects_per_scene[0], objects_per_scene[1] + 1, count)
        chain: List[int] = []
        while len(chain) < num_objects.sum():
            chain.extend(rng.permutation(len(SUNRGBD_CLASSES)).tolist())
        data_list, num_boxes, num_points, offset = [], 0, 0, 0
        for i in range(count):
            labels = chain[offset:offset + int(num_objects[i])]
            offset += int(num_objects[i])
            points, image, depth2img, instances = _scene(seed, split_key, i, labels,
                                                         points_per_scene, size_jitter, image_size)
            name = f'{first + i:06d}'
            write_bin(osp.join(out_dir, 'points', f'{name}.bin'), points)
            save_image(osp.join(out_dir, 'sunrgbd_trainval', 'image', f'{name}.jpg'), image)
            data_list.append(
                dict(
                    images=dict(
                        CAM0=dict(
                            img_path=f'{name}.jpg',
                            depth2img=depth2img.tolist(),
                            height=int(image.shape[0]),
                            width=int(image.shape[1]))),
                    lidar_points=dict(num_pts_feats=6, lidar_path=f'{name}.bin'),
                    instances=instances))
            num_boxes += len(instances)
            num_points += len(points)
        info_file = dump_v2_infos(out_dir, 'sunrgbd', SUNRGBD_CLASSES, split, data_list)
        summary.append(f'{info_file}: {count} scenes, {num_boxes} yawed boxes, '
                       f'{num_points} points (points/*.bin, sunrgbd_trainval/image/*.jpg)')
    return summary
