# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny fine-grained few-shot set (CUB-200-2011-like) with foreground masks and class splits.

Layout::

    <root>/images/<class>/<stem>.png     RGB, image_size x image_size (CustomDataset sub-folders)
    <root>/masks/<class>/<stem>.png      'L', 255 = foreground object, 0 = background
    <root>/splits/{base,val,novel}.txt   one class name per line
    <root>/classes.txt                   all class names, label order

Classes are "creatures" (body, head, tail) of four families (``round``, ``slim``, ``crested``,
``longtail``: body shape) with five species each that differ only subtly: body hue steps of
``hue_step`` degrees and a wing marking (none / stripe / dot). Each image shows one creature in
a random posture (orientation, head turn, scale, position) on its own cluttered background
(colour gradient, blobs, lines), so the class is carried by the foreground alone. Class names
sort in label order (``001.round_a`` ...). The splits follow the rule of Chen et al. (ICLR
2019) for CUB on label indices: base ``i % 2 == 0``, val ``i % 4 == 1``, novel ``i % 4 == 3``
(10 / 5 / 5 of 20), so every family has base and novel species.
"""
import colorsys
import math
import os.path as osp
from typing import List, Tuple

import numpy as np
from PIL import Image, ImageDraw

from ._common import child_rng, cluttered_background, save_image, write_lines

__all__ = ['FEWSHOT_FAMILIES', 'fewshot_classes', 'generate_fewshot']

# family -> (body aspect, tail length factor, crest); base hue in degrees.
FEWSHOT_FAMILIES = {
    'round': (0.75, 0.5, False, 10.0),
    'slim': (0.42, 0.5, False, 110.0),
    'crested': (0.6, 0.5, True, 200.0),
    'longtail': (0.6, 1.3, False, 290.0),
}
MARKINGS = ('none', 'stripe', 'dot', 'stripe', 'dot')
SPECIES = 'abcdefgh'


def fewshot_classes(num_families: int = 4, species_per_family: int = 5) -> List[str]:
    """Class names in label order, e.g. ``['001.round_a', '002.round_b', ...]``."""
    families = list(FEWSHOT_FAMILIES)[:num_families]
    names = [f'{f}_{SPECIES[s]}' for f in families for s in range(species_per_family)]
    return [f'{i + 1:03d}.{n}' for i, n in enumerate(names)]


def _rgb(hue_deg: float, sat: float, val: float) -> np.ndarray:
    return np.array(colorsys.hsv_to_rgb((hue_deg % 360) / 360, sat, val)) * 255


def _ellipse(cx: float, cy: float, a: float, b: float, angle: float, n: int = 28) -> list:
    t = np.linspace(0, 2 * math.pi, n, endpoint=False)
    x, y = a * np.cos(t), b * np.sin(t)
    c, s = math.cos(angle), math.sin(angle)
    return list(zip((cx + x * c - y * s).tolist(), (cy + x * s + y * c).tolist()))


def _creature(rng: np.random.Generator, size: int, family: str, species: int,
              hue_step: float) -> Tuple[np.ndarray, np.ndarray]:
    """Image and mask of one creature on a fresh cluttered background."""
    aspect, tail_len, crest, base_hue = FEWSHOT_FAMILIES[family]
    img = Image.fromarray(cluttered_background(rng, size, size))
    mask = Image.new('L', (size, size), 0)
    d_img, d_mask = ImageDraw.Draw(img), ImageDraw.Draw(mask)

    scale = rng.uniform(0.75, 1.0) * size
    a, b = 0.22 * scale, 0.22 * scale * aspect
    theta = rng.uniform(-math.pi, math.pi)  # body orientation (posture)
    head_turn = rng.uniform(-0.7, 0.7)  # head angle relative to the body (posture)
    ux, uy = math.cos(theta), math.sin(theta)
    cx, cy = size / 2 + rng.uniform(-0.1, 0.1) * size, size / 2 + rng.uniform(-0.1, 0.1) * size

    body_rgb = _rgb(base_hue + species * hue_step, 0.75, 0.9)
    head_rgb = _rgb(base_hue + 180, 0.5, 0.55)
    jitter = rng.normal(0, 6, 3)
    body = tuple(int(v) for v in np.clip(body_rgb + jitter, 0, 255))
    head_col = tuple(int(v) for v in np.clip(head_rgb + jitter, 0, 255))

    # Tail: triangle behind the body.
    tail_base = (cx - ux * a * 0.8, cy - uy * a * 0.8)
    tip = (cx - ux * a * (1.0 + tail_len), cy - uy * a * (1.0 + tail_len))
    px, py = -uy * b * 0.7, ux * b * 0.7
    tail = [(tail_base[0] + px, tail_base[1] + py), (tail_base[0] - px, tail_base[1] - py), tip]
    # Head: circle in front of the body, turned by head_turn.
    ht = theta + head_turn
    r_head = 0.11 * scale
    hx, hy = cx + ux * a * 0.9 + math.cos(ht) * r_head, cy + uy * a * 0.9 + math.sin(ht) * r_head
    shapes = [(tail, body), (_ellipse(cx, cy, a, b, theta), body),
              (_ellipse(hx, hy, r_head, r_head, 0.0, 16), head_col)]
    if crest:
        cr = [(hx + math.cos(ht + 1.3) * r_head, hy + math.sin(ht + 1.3) * r_head),
              (hx + math.cos(ht + 2.2) * r_head, hy + math.sin(ht + 2.2) * r_head),
              (hx + math.cos(ht + 1.75) * r_head * 2.2, hy + math.sin(ht + 1.75) * r_head * 2.2)]
        shapes.insert(0, (cr, head_col))
    for poly, colour in shapes:
        d_img.polygon(poly, fill=colour)
        d_mask.polygon(poly, fill=255)
    # Wing marking inside the body: the fine-grained cue besides the hue.
    marking = MARKINGS[species % len(MARKINGS)]
    mark_rgb = tuple(int(v) for v in np.clip(body_rgb * 0.35, 0, 255))
    if marking == 'stripe':
        d_img.line([(cx - ux * a * 0.5, cy - uy * a * 0.5), (cx + ux * a * 0.5, cy + uy * a * 0.5)],
                   fill=mark_rgb,
                   width=max(2, int(b * 0.35)))
    elif marking == 'dot':
        d_img.polygon(_ellipse(cx, cy, b * 0.35, b * 0.35, 0.0, 12), fill=mark_rgb)
    return np.asarray(img), np.asarray(mask)


def generate_fewshot(out_dir: str,
                     seed: int = 0,
                     num_families: int = 4,
                     species_per_family: int = 5,
                     images_per_class: int = 20,
                     image_size: int = 64,
                     hue_step: float = 14.0) -> List[str]:
    """Write the tiny fine-grained few-shot set into ``out_dir``.

    Args:
        out_dir: Dataset root; ``images/`` is the ``data_prefix`` of ``CustomDataset``.
        seed: Random seed.
        num_families: Number of body-shape families (at most 4).
        species_per_family: Species per family (at most 8).
        images_per_class: Images per class.
        image_size: Side of the square images in pixels.
        hue_step: Body hue difference between consecutive species of a family, in degrees.

    Returns:
        Summary lines of what was written.
    """
    if not 1 <= num_families <= len(FEWSHOT_FAMILIES):
        raise ValueError(f'num_families must be in 1..{len(FEWSHOT_FAMILIES)}')
    if not 1 <= species_per_family <= len(SPECIES):
        raise ValueError(f'species_per_family must be in 1..{len(SPECIES)}')
    classes = fewshot_classes(num_families, species_per_family)
    families = list(FEWSHOT_FAMILIES)
    for label, name in enumerate(classes):
        family, species = families[label // species_per_family], label % species_per_family
        stem_prefix = name.split('.', 1)[1]
        for i in range(images_per_class):
            rng = child_rng(seed, label, i)
            img, mask = _creature(rng, image_size, family, species, hue_step)
            stem = f'{stem_prefix}_{i:04d}.png'
            save_image(osp.join(out_dir, 'images', name, stem), img)
            save_image(osp.join(out_dir, 'masks', name, stem), mask)
    write_lines(osp.join(out_dir, 'classes.txt'), classes)
    splits = dict(
        base=[c for i, c in enumerate(classes) if i % 2 == 0],
        val=[c for i, c in enumerate(classes) if i % 4 == 1],
        novel=[c for i, c in enumerate(classes) if i % 4 == 3])
    for split, names in splits.items():
        write_lines(osp.join(out_dir, 'splits', f'{split}.txt'), names)
    return [
        f'images/, masks/: {len(classes)} classes x {images_per_class} PNGs '
        f'({image_size}x{image_size}) with binary foreground masks',
        'splits/: ' + ', '.join(f'{k} {len(v)}' for k, v in splits.items()) + ' classes'
    ]
