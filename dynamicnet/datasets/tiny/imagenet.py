# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny ImageNet-style class folders for mmpretrain 1.2's ``CustomDataset`` (and ``ImageNet``).

Layout::

    <root>/{train,val}/<class>/<class>_<index>.png      RGB, image_size x image_size
    <root>/meta/{train,val}.txt                         '<class>/<file> <label>' (ann_file mode)
    <root>/meta/classes.txt                             one class name per line, label order

Each class is a shape in a colour (e.g. ``red_circle``) drawn at a random position, scale and
rotation on a noisy background whose colour is independent of the class, so the class is
visible and learnable while the images still vary.
"""
import os.path as osp
from typing import List

import numpy as np
from PIL import Image, ImageDraw

from ._common import child_rng, draw_shape, noisy_background, save_image, write_lines

__all__ = ['IMAGENET_CLASSES', 'generate_imagenet']

# (folder name, shape, RGB); folders sort alphabetically, which is the label order of
# ``CustomDataset``'s sub-folder mode, so this table is kept sorted by name.
IMAGENET_CLASSES = (
    ('blue_square', 'square', (40, 80, 220)),
    ('cyan_hexagon', 'hexagon', (30, 200, 210)),
    ('gray_bar', 'bar', (150, 150, 150)),
    ('green_triangle', 'triangle', (40, 180, 60)),
    ('orange_cross', 'cross', (240, 140, 20)),
    ('pink_diamond', 'diamond', (245, 120, 190)),
    ('purple_ring', 'ring', (150, 50, 200)),
    ('red_circle', 'circle', (220, 40, 40)),
    ('yellow_star', 'star', (230, 210, 40)),
)
DEFAULT_CLASSES = ('blue_square', 'green_triangle', 'orange_cross', 'purple_ring', 'red_circle',
                   'yellow_star')


def render_class_image(rng: np.random.Generator, shape: str, colour: tuple,
                       size: int) -> np.ndarray:
    """One ``(size, size, 3)`` uint8 image of ``shape`` in ``colour`` on a random background."""
    background = rng.uniform(20, 110, 3)  # darker than every class colour's brightest channel
    img = Image.fromarray(noisy_background(rng, size, size, background, noise=10.0))
    radius = rng.uniform(0.24, 0.36) * size
    cx, cy = rng.uniform(radius + 1, size - radius - 1, 2)
    fill = tuple(int(v) for v in np.clip(np.asarray(colour) + rng.normal(0, 12, 3), 0, 255))
    draw_shape(ImageDraw.Draw(img), shape, (cx, cy), radius, fill, angle=rng.uniform(-0.4, 0.4))
    return np.asarray(img)


def generate_imagenet(out_dir: str,
                      seed: int = 0,
                      classes=DEFAULT_CLASSES,
                      num_train_per_class: int = 24,
                      num_val_per_class: int = 8,
                      image_size: int = 32) -> List[str]:
    """Write ImageNet-style class folders into ``out_dir``.

    Args:
        out_dir: Dataset root; ``train/`` and ``val/`` are the ``data_prefix`` of each split.
        seed: Random seed.
        classes: Class names, a subset of the names in :data:`IMAGENET_CLASSES` (at least 5
            for top-5 accuracy to be meaningful).
        num_train_per_class: Training images per class.
        num_val_per_class: Validation images per class.
        image_size: Side of the square images in pixels.

    Returns:
        Summary lines of what was written.
    """
    table = {name: (shape, colour) for name, shape, colour in IMAGENET_CLASSES}
    unknown = [c for c in classes if c not in table]
    if unknown:
        raise ValueError(f'unknown classes {unknown}; choose from {sorted(table)}')
    names = sorted(classes)
    write_lines(osp.join(out_dir, 'meta', 'classes.txt'), names)
    summary = []
    splits = (('train', num_train_per_class), ('val', num_val_per_class))
    for split_key, (split, per_class) in enumerate(splits):
        lines = []
        for label, name in enumerate(names):
            shape, colour = table[name]
            for i in range(per_class):
                rng = child_rng(seed, split_key, IMAGENET_CLASSES.index((name, shape, colour)), i)
                file = f'{name}/{name}_{i:05d}.png'
                save_image(
                    osp.join(out_dir, split, file),
                    render_class_image(rng, shape, colour, image_size))
                lines.append(f'{file} {label}')
        write_lines(osp.join(out_dir, 'meta', f'{split}.txt'), lines)
        summary.append(f'{split}/: {len(names)} classes x {per_class} PNGs '
                       f'({image_size}x{image_size}), meta/{split}.txt')
    return summary
