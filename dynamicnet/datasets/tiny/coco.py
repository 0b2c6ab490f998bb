# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny COCO detection set for mmdet 3.3's ``CocoDataset``.

Layout (as the COCO 2017 release)::

    <root>/annotations/instances_{train,val}2017.json
    <root>/{train,val}2017/<12-digit id>.jpg

Each image holds 2-4 non-overlapping objects. A category has its own shape, colour and size
range (e.g. ``person``: tall red bar, ``car``: wide blue rectangle), so class and box size are
learnable. Categories keep their real COCO names and ids, so ``metainfo=dict(classes=...)``
selects them from ``CocoDataset``'s 80 classes. Annotations carry polygon ``segmentation``
(exactly the drawn shape), ``area`` (polygon area), ``bbox`` ``[x, y, w, h]`` and
``iscrowd=0``.
"""
import json
import math
import os
import os.path as osp
from typing import List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

from ._common import child_rng, noisy_background, save_image

__all__ = ['COCO_CATEGORIES', 'generate_coco']

# (COCO id, name, shape, RGB, (min, max) width in px, (min, max) height in px)
COCO_CATEGORIES = (
    (1, 'person', 'rect', (220, 40, 40), (12, 18), (36, 52)),
    (3, 'car', 'rect', (40, 80, 220), (40, 56), (18, 26)),
    (13, 'stop sign', 'octagon', (200, 30, 160), (20, 28), None),
    (37, 'sports ball', 'circle', (40, 180, 60), (10, 16), None),
    (44, 'bottle', 'rect', (230, 200, 40), (8, 12), (22, 30)),
)
DEFAULT_CATEGORIES = ('person', 'car', 'stop sign', 'sports ball')
IMAGE_SIZES = ((128, 128), (160, 120), (120, 160))  # (width, height)


def _polygon(shape: str, cx: float, cy: float, w: float, h: float) -> np.ndarray:
    """Vertices ``(V, 2)`` of the drawn object (rectangles, octagons, 24-gon circles)."""
    if shape == 'rect':
        return np.array([[cx - w / 2, cy - h / 2], [cx + w / 2, cy - h / 2],
                         [cx + w / 2, cy + h / 2], [cx - w / 2, cy + h / 2]])
    sides, offset = (8, math.pi / 8) if shape == 'octagon' else (24, 0.0)
    theta = offset + np.arange(sides) * 2 * math.pi / sides
    return np.stack([cx + w / 2 * np.cos(theta), cy + h / 2 * np.sin(theta)], axis=1)


def _area(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return float(0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))))


def _overlaps(box: Sequence[float], boxes: List[Sequence[float]], gap: float = 2.0) -> bool:
    x1, y1, x2, y2 = box
    return any(x1 < b[2] + gap and b[0] < x2 + gap and y1 < b[3] + gap and b[1] < y2 + gap
               for b in boxes)


def _image(seed: int, split_key: int, index: int, cats: Sequence[tuple],
           objects_per_image: Tuple[int, int]) -> Tuple[np.ndarray, List[Tuple[int, np.ndarray]]]:
    rng = child_rng(seed, split_key, index)
    width, height = IMAGE_SIZES[int(rng.integers(len(IMAGE_SIZES)))]
    img = Image.fromarray(noisy_background(rng, height, width, rng.uniform(60, 170, 3), noise=10.0))
    draw = ImageDraw.Draw(img)
    count = int(rng.integers(objects_per_image[0], objects_per_image[1] + 1))
    objects, boxes = [], []
    for _ in range(count):
        cat = cats[int(rng.integers(len(cats)))]
        _, _, shape, colour, w_range, h_range = cat
        w = rng.uniform(*w_range)
        h = w if h_range is None else rng.uniform(*h_range)
        for _ in range(50):
            cx, cy = rng.uniform(w / 2 + 1,
                                 width - w / 2 - 1), rng.uniform(h / 2 + 1, height - h / 2 - 1)
            box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
            if not _overlaps(box, boxes):
                break
        else:
            continue
        poly = np.round(_polygon(shape, cx, cy, w, h), 2)
        fill = tuple(int(v) for v in np.clip(np.asarray(colour) + rng.normal(0, 10, 3), 0, 255))
        draw.polygon([tuple(p) for p in poly.tolist()], fill=fill)
        boxes.append(box)
        objects.append((cat[0], poly))
    return np.asarray(img), objects


def generate_coco(out_dir: str,
                  seed: int = 0,
                  categories=DEFAULT_CATEGORIES,
                  num_train: int = 16,
                  num_val: int = 8,
                  objects_per_image: Tuple[int, int] = (2, 4)) -> List[str]:
    """Write a tiny COCO-format detection set into ``out_dir``.

    Args:
        out_dir: Dataset root (``data_root`` of ``CocoDataset``).
        seed: Random seed.
        categories: Names from :data:`COCO_CATEGORIES`; pass the same tuple as
            ``metainfo=dict(classes=...)``.
        num_train: Training images.
        num_val: Validation images.
        objects_per_image: Inclusive range of objects per image.

    Returns:
        Summary lines of what was written.
    """
    table = {c[1]: c for c in COCO_CATEGORIES}
    unknown = [c for c in categories if c not in table]
    if unknown:
        raise ValueError(f'unknown categories {unknown}; choose from {sorted(table)}')
    cats = [table[name] for name in categories]
    summary = []
    image_id = ann_id = 0
    for split_key, (split, count) in enumerate((('train', num_train), ('val', num_val))):
        images, annotations = [], []
        for i in range(count):
            image_id += 1
            array, objects = _image(seed, split_key, i, cats, objects_per_image)
            file_name = f'{image_id:012d}.jpg'
            save_image(osp.join(out_dir, f'{split}2017', file_name), array)
            images.append(
                dict(
                    id=image_id,
                    file_name=file_name,
                    height=int(array.shape[0]),
                    width=int(array.shape[1])))
            for cat_id, poly in objects:
                ann_id += 1
                x1, y1 = poly.min(axis=0)
                x2, y2 = poly.max(axis=0)
                annotations.append(
                    dict(
                        id=ann_id,
                        image_id=image_id,
                        category_id=int(cat_id),
                        segmentation=[[round(float(v), 2) for v in poly.reshape(-1)]],
                        area=round(_area(poly), 2),
                        bbox=[round(float(v), 2) for v in (x1, y1, x2 - x1, y2 - y1)],
                        iscrowd=0))
        dataset = dict(
            info=dict(description='dynamicnet tiny COCO', version='1.0', year=2017),
            licenses=[],
            images=images,
            annotations=annotations,
            categories=[dict(id=c[0], name=c[1], supercategory='object') for c in cats])
        path = osp.join(out_dir, 'annotations', f'instances_{split}2017.json')
        os.makedirs(osp.dirname(path), exist_ok=True)
        with open(path, 'w') as f:
            json.dump(dataset, f)
        summary.append(f'annotations/instances_{split}2017.json: {count} images, '
                       f'{len(annotations)} boxes, {len(cats)} categories ({split}2017/*.jpg)')
    return summary
