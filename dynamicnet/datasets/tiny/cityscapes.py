# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny Cityscapes for mmseg 1.2's ``CityscapesDataset``.

Layout (as after mmseg's ``tools/dataset_converters/cityscapes.py``)::

    <root>/leftImg8bit/{train,val}/<city>/<city>_<seq>_<frame>_leftImg8bit.png
    <root>/gtFine/{train,val}/<city>/<city>_<seq>_<frame>_gtFine_labelTrainIds.png

Label maps are single-channel uint8 trainIds 0..18 with 255 (ignore) on the ego-vehicle band at
the bottom, as in the real data. Each image is a street layout (sky, buildings, vegetation,
sidewalk, road, terrain) with objects of the other classes on it; every class is painted in its
Cityscapes palette colour with class-specific texture noise, so colour and texture tell the
class and per-pixel classification is learnable.
"""
import os.path as osp
from typing import List, Tuple

import numpy as np

from ._common import child_rng, save_image

__all__ = ['CITYSCAPES_CLASSES', 'generate_cityscapes']

CITYSCAPES_CLASSES = ('road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light',
                      'traffic sign', 'vegetation', 'terrain', 'sky', 'person', 'rider', 'car',
                      'truck', 'bus', 'train', 'motorcycle', 'bicycle')
# ``CityscapesDataset.METAINFO['palette']``
CITYSCAPES_PALETTE = ((128, 64, 128), (244, 35, 232), (70, 70, 70), (102, 102, 156),
                      (190, 153, 153), (153, 153, 153), (250, 170, 30), (220, 220, 0),
                      (107, 142, 35), (152, 251, 152), (70, 130, 180), (220, 20, 60), (255, 0, 0),
                      (0, 0, 142), (0, 0, 70), (0, 60, 100), (0, 80, 100), (0, 0, 230), (119, 11,
                                                                                         32))
IGNORE = 255
# Objects placed on the street: trainId -> (width, height) as fractions of the image height.
OBJECT_SIZES = {
    3: (0.5, 0.25),
    4: (0.6, 0.12),
    5: (0.03, 0.45),
    6: (0.05, 0.12),
    7: (0.1, 0.08),
    11: (0.07, 0.25),
    12: (0.09, 0.3),
    13: (0.35, 0.18),
    14: (0.45, 0.3),
    15: (0.6, 0.32),
    16: (0.9, 0.3),
    17: (0.14, 0.12),
    18: (0.14, 0.12)
}
# Texture noise standard deviation per class: flat sky and road, busy vegetation and terrain.
TEXTURE = {10: 3.0, 0: 5.0, 8: 28.0, 9: 20.0, 2: 14.0}


def _scene(rng: np.random.Generator, height: int, width: int,
           objects: List[int]) -> Tuple[np.ndarray, np.ndarray]:
    label = np.full((height, width), 10, dtype=np.uint8)  # sky
    rows, cols = np.mgrid[0:height, 0:width]
    horizon = int(height * rng.uniform(0.42, 0.52))
    roof = (
        height * rng.uniform(0.1, 0.3) +
        height * 0.08 * np.sin(cols / width * rng.uniform(4, 12) + rng.uniform(0, 6)))
    label[(rows >= roof) & (rows < horizon)] = 2  # building
    for _ in range(int(rng.integers(1, 4))):  # trees in front of buildings
        cx, cy = rng.uniform(0, width), rng.uniform(roof.min(), horizon)
        r = rng.uniform(0.08, 0.18) * height
        label[((cols - cx)**2 + (rows - cy)**2 < r**2) & (rows < horizon)] = 8
    label[rows >= horizon] = 1  # sidewalk
    # The road is a trapezoid widening towards the camera; terrain beside the sidewalk.
    t = np.clip((rows - horizon) / max(height - horizon, 1), 0, 1)
    centre = width * rng.uniform(0.4, 0.6)
    half = width * (0.08 + 0.5 * t)
    road = (rows >= horizon) & (np.abs(cols - centre) < half)
    label[road] = 0
    label[(rows >= horizon) & (np.abs(cols - centre) > half + width * (0.08 + 0.15 * t))] = 9
    for cls in objects:
        w_frac, h_frac = OBJECT_SIZES[cls]
        scale = rng.uniform(0.8, 1.2)
        w, h = max(2, int(w_frac * height * scale)), max(2, int(h_frac * height * scale))
        bottom = int(rng.uniform(horizon + 2, height * 0.9))
        left = int(rng.uniform(0, max(width - w, 1)))
        top = max(bottom - h, 0)
        if cls in (6, 7):  # lights and signs hang above the street
            top, bottom = max(horizon - int(0.35 * height) - h, 0), horizon - int(0.35 * height)
        label[top:bottom, left:left + w] = cls
    ego = int(height * rng.uniform(0.05, 0.1))
    label[height - ego:] = IGNORE

    palette = np.array(CITYSCAPES_PALETTE + ((20, 20, 20), ), dtype=np.float64)
    index = np.where(label == IGNORE, len(CITYSCAPES_PALETTE), label)
    sigma = np.full(len(palette), 8.0)
    for cls, s in TEXTURE.items():
        sigma[cls] = s
    img = palette[index] + rng.normal(0, 1, (height, width, 3)) * sigma[index][..., None]
    return np.clip(img, 0, 255).astype(np.uint8), label


def generate_cityscapes(
    out_dir: str,
    seed: int = 0,
    train_cities: Tuple[str, ...] = ('aachen', 'bochum'),
    val_cities: Tuple[str, ...] = ('frankfurt', ),
    images_per_city: int = 4,
    image_size: Tuple[int, int] = (128, 256),
    objects_per_image: Tuple[int, int] = (5, 9)
) -> List[str]:
    """Write a tiny Cityscapes into ``out_dir``.

    Args:
        out_dir: Dataset root (``data_root`` of ``CityscapesDataset``).
        seed: Random seed.
        train_cities: City folders of the training split.
        val_cities: City folders of the validation split.
        images_per_city: Images per city.
        image_size: ``(height, width)``; the real data is ``(1024, 2048)``.
        objects_per_image: Inclusive range of the number of placed objects.

    Returns:
        Summary lines of what was written.
    """
    height, width = image_size
    object_classes = sorted(OBJECT_SIZES)
    summary = []
    for split_key, (split, cities) in enumerate((('train', train_cities), ('val', val_cities))):
        # A cycle over shuffled object classes: every class appears in every split.
        chain_rng = child_rng(seed, 100 + split_key)
        chain: List[int] = []
        present = np.zeros(len(CITYSCAPES_CLASSES) + 1, dtype=bool)
        for c, city in enumerate(cities):
            for i in range(images_per_city):
                rng = child_rng(seed, split_key, c, i)
                count = int(rng.integers(objects_per_image[0], objects_per_image[1] + 1))
                while len(chain) < count:
                    chain.extend(chain_rng.permutation(object_classes).tolist())
                objects, chain = chain[:count], chain[count:]
                img, label = _scene(rng, height, width, objects)
                stem = f'{city}_{i:06d}_{19 + 4 * i:06d}'
                save_image(
                    osp.join(out_dir, 'leftImg8bit', split, city, f'{stem}_leftImg8bit.png'), img)
                save_image(
                    osp.join(out_dir, 'gtFine', split, city, f'{stem}_gtFine_labelTrainIds.png'),
                    label)
                ids = np.unique(label)
                present[np.minimum(ids, len(CITYSCAPES_CLASSES))] = True
        summary.append(f'{split}: {len(cities) * images_per_city} images {height}x{width} in '
                       f'{", ".join(cities)}, {int(present[:-1].sum())}/19 classes present, '
                       '255 ego band (leftImg8bit/, gtFine/ *_labelTrainIds.png)')
    return summary
