# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny ScanNet v2 in the on-disk format mmdet3d 1.4's ``ScanNetDataset`` reads.

Layout (as written by mmdet3d's ``tools/create_data.py scannet`` + ``update_infos_to_v2.py``)::

    <root>/points/<scene>.bin           float32 (N, 6): x, y, z (m, unaligned), r, g, b (0..255)
    <root>/instance_mask/<scene>.bin    int64 (N,): 0 = unannotated, k = k-th instance
    <root>/semantic_mask/<scene>.bin    int64 (N,): nyu40 ids (1 wall, 2 floor, 3..39 objects)
    <root>/scannet_infos_{train,val}.pkl   v2 infos: {'metainfo': ..., 'data_list': [...]}

Each scene is a 4-5 m room with a floor, walls and up to 5 axis-aligned box objects of the 18
benchmark classes (3-5 drawn; one that finds no free spot is left out); every class occurs in each
split. 32 training and 8 validation rooms by default: trained on 8 rooms, the CPU-sized
Pointformer did not reach a positive mAP on unseen rooms in minutes. A box has the class's mean
size of mmdet3d's VoteNet ScanNet config (jittered by ``size_jitter``) and the class's palette
colour, so class, centre and size are learnable. Points are stored in a rotated/translated "scan"
frame and each info carries the ``axis_align_matrix`` that ``GlobalAlignment`` applies, as in real
ScanNet; boxes are in the aligned frame.
"""
import math
import os.path as osp
from typing import List, Tuple

import numpy as np

from ._common import child_rng, write_bin
from ._indoor3d import (dump_v2_infos, place_footprints, points_in_box, sample_box_surface,
                        sample_rectangle)

__all__ = ['SCANNET_CLASSES', 'SCANNET_NYU40_IDS', 'SCANNET_MEAN_SIZES', 'generate_scannet']

SCANNET_CLASSES = ('cabinet', 'bed', 'chair', 'sofa', 'table', 'door', 'window', 'bookshelf',
                   'picture', 'counter', 'desk', 'curtain', 'refrigerator', 'showercurtrain',
                   'toilet', 'sink', 'bathtub', 'garbagebin')
# ``ScanNetDataset.METAINFO['seg_valid_class_ids']``: nyu40 id of each class above.
SCANNET_NYU40_IDS = (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 16, 24, 28, 33, 34, 36, 39)
NYU40_WALL, NYU40_FLOOR = 1, 2
# (dx, dy, dz) in metres: ``mean_sizes`` of mmdet3d 1.4 ``votenet_8xb8_scannet-3d.py``.
SCANNET_MEAN_SIZES = ((0.76966727, 0.8116021, 0.92573744), (1.876858, 1.8425595, 1.1931566),
                      (0.61328, 0.6148609, 0.7182701), (1.3955007, 1.5121545, 0.83443564),
                      (0.97949594, 1.0675149, 0.6329687), (0.531663, 0.5955577, 1.7500148),
                      (0.9624706, 0.72462326, 1.1481868), (0.83221924, 1.0490936, 1.6875663),
                      (0.21132214, 0.4206159, 0.5372846), (1.4440073, 1.8970833, 0.26985747),
                      (1.0294262, 1.4040797, 0.87554324), (1.3766412, 0.65521795, 1.6813129),
                      (0.6650819, 0.71111923, 1.298853), (0.41999173, 0.37906948, 1.7513971),
                      (0.59359556, 0.5912492, 0.73919016), (0.50867593, 0.50656086, 0.30136237),
                      (1.1511526, 1.0546296, 0.49706793), (0.47535285, 0.49249494, 0.5802117))
# ``ScanNetDataset.METAINFO['palette']``: each class is drawn in its palette colour.
SCANNET_PALETTE = ((31, 119, 180), (255, 187, 120), (188, 189, 34), (140, 86, 75), (255, 152, 150),
                   (214, 39, 40), (197, 176, 213), (148, 103, 189), (196, 156, 148), (23, 190, 207),
                   (247, 182, 210), (219, 219, 141), (255, 127, 14), (158, 218, 229), (44, 160, 44),
                   (112, 128, 144), (227, 119, 194), (82, 84, 163))
# Far (>= 60 in RGB) from every class colour, so colour separates objects from the room.
FLOOR_RGB, WALL_RGB = (60, 60, 60), (240, 240, 235)
WALL_HEIGHT = 2.4


def _class_chain(rng: np.random.Generator, count: int, num_classes: int) -> List[int]:
    """Concatenated random permutations: any ``num_classes`` consecutive draws cover them all."""
    chain: List[int] = []
    while len(chain) < count:
        chain.extend(rng.permutation(num_classes).tolist())
    return chain[:count]


def _scene(seed: int, split_key: int, index: int, labels: List[int], points_range: Tuple[int, int],
           size_jitter: float,
           room_size: Tuple[float, float]) -> Tuple[np.ndarray, np.ndarray, np.ndarray, list, list]:
    """One room: points (unaligned), instance mask, semantic mask, instances, align matrix."""
    rng = child_rng(seed, split_key, index)
    room_x, room_y = rng.uniform(room_size[0], room_size[1], 2)
    sizes = [
        np.asarray(SCANNET_MEAN_SIZES[c]) * rng.uniform(1 - size_jitter, 1 + size_jitter, 3)
        for c in labels
    ]
    # Largest footprints first, so every object finds a place.
    order = sorted(range(len(labels)), key=lambda i: -sizes[i][0] * sizes[i][1])
    labels, sizes = [labels[i] for i in order], [sizes[i] for i in order]
    centres = place_footprints(rng, [(s[0], s[1]) for s in sizes],
                               (-room_x / 2 + 0.1, room_x / 2 - 0.1),
                               (-room_y / 2 + 0.1, room_y / 2 - 0.1))
    objects = [(c, np.array([xy[0], xy[1], s[2] / 2]), s)
               for c, xy, s in zip(labels, centres, sizes) if xy is not None]

    # Point budget in proportion to surface area; objects are scanned more densely than walls.
    surf = [s[0] * s[1] + 2 * s[2] * (s[0] + s[1]) for _, _, s in objects]
    walls = [((-room_x / 2, -room_y / 2, 0), (room_x / 2, -room_y / 2, WALL_HEIGHT)),
             ((-room_x / 2, room_y / 2, 0), (room_x / 2, room_y / 2, WALL_HEIGHT)),
             ((-room_x / 2, -room_y / 2, 0), (-room_x / 2, room_y / 2, WALL_HEIGHT)),
             ((room_x / 2, -room_y / 2, 0), (room_x / 2, room_y / 2, WALL_HEIGHT))]
    wall_area = [WALL_HEIGHT * (room_x if lo[1] == hi[1] else room_y) for lo, hi in walls]
    weights = np.array([3.0 * a
                        for a in surf] + [1.0 * room_x * room_y] + [0.25 * a for a in wall_area])
    total = int(rng.integers(points_range[0], points_range[1] + 1))
    counts = rng.multinomial(total, weights / weights.sum())

    xyz, rgb, inst, sem = [], [], [], []
    for k, ((label, centre, size), n) in enumerate(zip(objects, counts)):
        n = max(int(n), 64)
        xyz.append(sample_box_surface(rng, n, centre, size))
        rgb.append(np.asarray(SCANNET_PALETTE[label]) + rng.normal(0, 10, (n, 3)))
        inst.append(np.full(n, k + 1))
        sem.append(np.full(n, SCANNET_NYU40_IDS[label]))
    floor = sample_rectangle(rng, int(counts[len(objects)]), (-room_x / 2, -room_y / 2, 0),
                             (room_x / 2, room_y / 2, 0))
    # No floor is scanned under an object.
    keep = np.ones(len(floor), dtype=bool)
    for _, centre, size in objects:
        keep &= ~points_in_box(floor, (centre[0], centre[1], 0.0), (size[0], size[1], 1.0))
    floor = floor[keep]
    xyz.append(floor)
    rgb.append(np.asarray(FLOOR_RGB) + rng.normal(0, 8, (len(floor), 3)))
    inst.append(np.zeros(len(floor)))
    sem.append(np.full(len(floor), NYU40_FLOOR))
    for (lo, hi), n in zip(walls, counts[len(objects) + 1:]):
        wall = sample_rectangle(rng, int(n), lo, hi)
        xyz.append(wall)
        rgb.append(np.asarray(WALL_RGB) + rng.normal(0, 8, (len(wall), 3)))
        inst.append(np.zeros(len(wall)))
        sem.append(np.full(len(wall), NYU40_WALL))

    xyz, rgb = np.concatenate(xyz), np.clip(np.concatenate(rgb), 0, 255)
    inst, sem = np.concatenate(inst).astype(np.int64), np.concatenate(sem).astype(np.int64)
    order = rng.permutation(len(xyz))  # scans are not sorted by object
    xyz, rgb, inst, sem = xyz[order], rgb[order], inst[order], sem[order]

    # aligned = R @ raw + t (GlobalAlignment); store raw = R^T (aligned - t).
    yaw = rng.uniform(-math.pi, math.pi)
    c, s = math.cos(yaw), math.sin(yaw)
    align = np.eye(4)
    align[:2, :2] = [[c, -s], [s, c]]
    align[:2, 3] = rng.uniform(-3.0, 3.0, 2)
    raw = (xyz - align[:3, 3]) @ align[:3, :3]
    points = np.concatenate([raw, rgb], axis=1).astype(np.float32)

    instances = [
        dict(bbox_3d=[float(v) for v in (*centre, *size)], bbox_label_3d=int(label))
        for label, centre, size in objects
    ]
    return points, inst, sem, instances, align.tolist()


def generate_scannet(out_dir: str,
                     seed: int = 0,
                     num_train: int = 32,
                     num_val: int = 8,
                     points_per_scene: Tuple[int, int] = (8000, 14000),
                     objects_per_scene: Tuple[int, int] = (3, 5),
                     size_jitter: float = 0.1,
                     room_size: Tuple[float, float] = (4.0, 5.0)) -> List[str]:
    """Write a tiny ScanNet into ``out_dir``.

    Args:
        out_dir: Dataset root (``data_root`` of ``ScanNetDataset``).
        seed: Random seed; the output bytes are a function of the arguments.
        num_train: Number of training scenes.
        num_val: Number of validation scenes.
        points_per_scene: Inclusive range of the sampled point count.
        objects_per_scene: Inclusive range of the number of objects per scene.
        size_jitter: Relative uniform jitter of each box dimension around the class mean size.
        room_size: Range (m) of the room's side lengths, drawn uniformly per side.

    Returns:
        Summary lines of what was written.
    """
    summary = []
    first_scene = 0
    for split_key, (split, count) in enumerate((('train', num_train), ('val', num_val))):
        rng = child_rng(seed, 100 + split_key)
        num_objects = rng.integers(objects_per_scene[0], objects_per_scene[1] + 1, count)
        chain = _class_chain(rng, int(num_objects.sum()), len(SCANNET_CLASSES))
        data_list, num_boxes, num_points = [], 0, 0
        offset = 0
        for i in range(count):
            name = f'scene{first_scene + i:04d}_00'
            labels = chain[offset:offset + int(num_objects[i])]
            offset += int(num_objects[i])
            points, inst, sem, instances, align = _scene(seed, split_key, i, labels,
                                                         points_per_scene, size_jitter,
                                                         room_size)
            for folder, array in (('points', points), ('instance_mask', inst), ('semantic_mask',
                                                                                sem)):
                write_bin(osp.join(out_dir, folder, f'{name}.bin'), array)
            data_list.append(
                dict(
                    lidar_points=dict(num_pts_feats=6, lidar_path=f'{name}.bin'),
                    pts_semantic_mask_path=f'{name}.bin',
                    pts_instance_mask_path=f'{name}.bin',
                    axis_align_matrix=align,
                    instances=instances))
            num_boxes += len(instances)
            num_points += len(points)
        first_scene += count
        info_file = dump_v2_infos(out_dir, 'scannet', SCANNET_CLASSES, split, data_list)
        summary.append(f'{info_file}: {count} scenes, {num_boxes} boxes, '
                       f'{num_points} points (points/, instance_mask/, semantic_mask/ *.bin)')
    return summary
