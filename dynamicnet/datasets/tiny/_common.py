# Copyright (c) dynamicnet contributors. All rights reserved.
"""Shared helpers of the tiny dataset generators: seeding, file writers and 2D shape drawing.

Only numpy and Pillow are used, so generators run before (and without) the OpenMMLab stack and
their output bytes depend only on the seed, the overrides and the numpy/Pillow versions.
"""
import math
import os
import os.path as osp
import pickle
from typing import Any, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

__all__ = [
    'child_rng', 'save_image', 'dump_pkl', 'write_bin', 'write_lines', 'shape_polygon',
    'draw_shape', 'SHAPES', 'cluttered_background', 'noisy_background'
]

# Shapes the 2D generators draw; each is visibly distinct at 8 px radius.
SHAPES = ('circle', 'square', 'triangle', 'diamond', 'cross', 'ring', 'star', 'hexagon', 'bar')


def child_rng(seed: int, *keys: int) -> np.random.Generator:
    """A generator seeded by ``(seed, *keys)``, independent of how many draws came before.

    Deriving every sample's stream from its own key keeps a sample identical when the number of
    other samples is overridden.
    """
    return np.random.default_rng([int(seed), *[int(k) for k in keys]])


def save_image(path: str, array: np.ndarray, quality: int = 95) -> None:
    """Write an RGB ``(H, W, 3)`` or grey ``(H, W)`` uint8 array; format from the extension.

    PNG is lossless (label maps, masks); JPEG is written with a fixed quality and no optimiser
    pass so the bytes are reproducible.
    """
    os.makedirs(osp.dirname(path), exist_ok=True)
    image = Image.fromarray(np.ascontiguousarray(array, dtype=np.uint8))
    if path.lower().endswith(('.jpg', '.jpeg')):
        image.save(path, quality=quality, subsampling=0)
    else:
        image.save(path, compress_level=6)


def dump_pkl(obj: Any, path: str) -> None:
    """Pickle like ``mmengine.dump(obj, path)`` does (protocol 2), without needing mmengine."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with open(path, 'wb') as f:
        pickle.dump(obj, f, protocol=2)


def write_bin(path: str, array: np.ndarray) -> None:
    """Write an array's raw bytes (``np.fromfile`` reads them back), as mmdet3d's converters do."""
    os.makedirs(osp.dirname(path), exist_ok=True)
    np.ascontiguousarray(array).tofile(path)


def write_lines(path: str, lines: Sequence[str]) -> None:
    """Write text lines with a trailing newline (split and annotation lists)."""
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    with open(path, 'w') as f:
        f.write(''.join(f'{line}\n' for line in lines))


def _regular_polygon(n: int, radius: float, angle: float, star: bool = False) -> np.ndarray:
    count = 2 * n if star else n
    theta = angle + np.arange(count) * (2 * math.pi / count) - math.pi / 2
    r = np.full(count, radius)
    if star:
        r[1::2] *= 0.45
    return np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)


def shape_polygon(shape: str, radius: float, angle: float = 0.0, aspect: float = 1.0) -> np.ndarray:
    """Vertices ``(V, 2)`` (x, y offsets in pixels) of a polygonal shape centred at 0.

    Args:
        shape: One of :data:`SHAPES` except ``'circle'`` and ``'ring'``.
        radius: Circumradius in pixels.
        angle: Rotation in radians.
        aspect: Scale of the y extent before rotation (fine-grained variants use it).
    """
    if shape == 'square':
        pts = _regular_polygon(4, radius, math.pi / 4)
    elif shape == 'triangle':
        pts = _regular_polygon(3, radius, 0.0)
    elif shape == 'diamond':
        pts = _regular_polygon(4, radius, 0.0) * np.array([0.7, 1.0])
    elif shape == 'hexagon':
        pts = _regular_polygon(6, radius, 0.0)
    elif shape == 'star':
        pts = _regular_polygon(5, radius, 0.0, star=True)
    elif shape == 'cross':
        a, b = radius, radius * 0.35
        pts = np.array([[-b, -a], [b, -a], [b, -b], [a, -b], [a, b], [b, b], [b, a], [-b, a],
                        [-b, b], [-a, b], [-a, -b], [-b, -b]])
    elif shape == 'bar':
        a, b = radius, radius * 0.35
        pts = np.array([[-a, -b], [a, -b], [a, b], [-a, b]])
    else:
        raise ValueError(f'{shape!r} is not a polygonal shape')
    pts = pts * np.array([1.0, aspect])
    c, s = math.cos(angle), math.sin(angle)
    return pts @ np.array([[c, s], [-s, c]])


def draw_shape(draw: ImageDraw.ImageDraw,
               shape: str,
               center: Tuple[float, float],
               radius: float,
               fill: Any,
               angle: float = 0.0,
               aspect: float = 1.0) -> None:
    """Draw a filled shape of :data:`SHAPES` on a Pillow canvas (RGB image or ``'L'`` mask)."""
    cx, cy = center
    if shape in ('circle', 'ring'):
        ry = radius * aspect
        box = [cx - radius, cy - ry, cx + radius, cy + ry]
        if shape == 'circle':
            draw.ellipse(box, fill=fill)
        else:
            draw.ellipse(box, outline=fill, width=max(2, int(round(radius * 0.4))))
        return
    pts = shape_polygon(shape, radius, angle, aspect) + np.array([cx, cy])
    draw.polygon([tuple(p) for p in pts.tolist()], fill=fill)


def noisy_background(rng: np.random.Generator,
                     height: int,
                     width: int,
                     base: Sequence[float],
                     noise: float = 12.0) -> np.ndarray:
    """A flat background of colour ``base`` with Gaussian pixel noise, ``(H, W, 3)`` uint8."""
    img = np.asarray(base, dtype=np.float64) + rng.normal(0.0, noise, (height, width, 3))
    return np.clip(img, 0, 255).astype(np.uint8)


def cluttered_background(rng: np.random.Generator,
                         height: int,
                         width: int,
                         num_blobs: int = 12) -> np.ndarray:
    """A distinct cluttered scene: a random two-colour gradient plus random blobs and stripes.

    Used where the class must be carried by the foreground only (few-shot fine-grained set):
    every image gets its own background so nothing about the class leaks through it.
    """
    c0, c1 = rng.uniform(30, 225, (2, 3))
    direction = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float64)
    t = (xx * math.cos(direction) + yy * math.sin(direction))
    t = (t - t.min()) / max(t.max() - t.min(), 1e-6)
    img = c0 * (1 - t[..., None]) + c1 * t[..., None]
    canvas = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    size = min(height, width)
    for _ in range(num_blobs):
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        x, y = rng.uniform(0, width), rng.uniform(0, height)
        r = rng.uniform(0.04, 0.15) * size
        if rng.random() < 0.5:
            draw.ellipse([x - r, y - r * rng.uniform(0.5, 1.5), x + r, y + r], fill=colour)
        else:
            x2, y2 = x + rng.uniform(-0.5, 0.5) * size, y + rng.uniform(-0.5, 0.5) * size
            draw.line([x, y, x2, y2], fill=colour, width=max(1, int(r / 3)))
    out = np.asarray(canvas, dtype=np.float64) + rng.normal(0.0, 6.0, (height, width, 3))
    return np.clip(out, 0, 255).astype(np.uint8)
