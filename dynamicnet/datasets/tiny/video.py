# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny action-recognition videos in mmaction2's rawframe layout (and an mp4 variant).

Layout (as mmaction2's ``tools/data/build_rawframes.py`` + ``build_file_list.py`` write it)::

    <root>/rawframes/<video>/img_00001.jpg ...      RGB frames, frame_size x frame_size
    <root>/{train,val}_list_rawframes.txt           '<video> <num_frames> <label>' per line
    <root>/videos/<video>.mp4                       the same frames as mp4 (write_videos=True)
    <root>/{train,val}_list_videos.txt              '<video>.mp4 <label>' per line
    <root>/classes.txt                              class names, label order

mmaction2's ``RawframeDataset(ann_file=..., data_prefix=dict(img='<root>/rawframes'),
filename_tmpl='img_{:05}.jpg')`` and ``VideoDataset`` read these lists. Each video shows a small
coloured patch moving over a static cluttered background; the class is the motion (right,
left, up, down, clockwise, anticlockwise) and, by default, also the patch colour. Videos differ
in length, start position, speed and background, so the patch must be found (the setting of
AdaFocus: a small informative region in a large frame).

Learnability: by default the background clutter is grey (``background_saturation=0``) and the
patch (16 px in 64 px frames) is the only saturated region, so every single frame tells the class
by the patch colour, visible to a small CNN on the whole frame and on any crop that contains the
patch. With colourful clutter (``background_saturation=1``, the earlier default, with 12 px
patches) random blobs of palette-like colours hide that cue, and small CNNs trained from scratch
on the 48 videos overfit them and stayed near chance on the val videos
(``configs/adafocus/README.md``).
"""
import math
import os
import os.path as osp
from typing import List, Tuple

import numpy as np

from ._common import child_rng, cluttered_background, save_image, write_lines

__all__ = ['VIDEO_CLASSES', 'generate_video']

# (name, motion, RGB)
VIDEO_CLASSES = (
    ('move_right', 'right', (230, 30, 30)),
    ('move_left', 'left', (30, 200, 40)),
    ('move_up', 'up', (40, 70, 240)),
    ('move_down', 'down', (240, 220, 30)),
    ('circle_cw', 'cw', (230, 40, 230)),
    ('circle_ccw', 'ccw', (30, 220, 230)),
)
PALETTE = tuple(c for _, _, c in VIDEO_CLASSES)


def _trajectory(rng: np.random.Generator, motion: str, num_frames: int, size: int,
                patch: int) -> np.ndarray:
    """Top-left patch positions ``(T, 2)`` (x, y) that stay inside the frame."""
    lo, hi = 1.0, size - patch - 1.0
    t = np.arange(num_frames, dtype=np.float64)
    if motion in ('cw', 'ccw'):
        radius = rng.uniform(0.18, 0.28) * size
        cx, cy = rng.uniform(lo + radius, hi - radius, 2)
        omega = rng.uniform(0.25, 0.4) * (1 if motion == 'cw' else -1)  # image y points down
        phase = rng.uniform(0, 2 * math.pi)
        return np.stack(
            [cx + radius * np.cos(phase + omega * t), cy + radius * np.sin(phase + omega * t)],
            axis=1)
    direction = dict(right=(1, 0), left=(-1, 0), up=(0, -1), down=(0, 1))[motion]
    travel = rng.uniform(0.45, 0.7) * (hi - lo)
    speed = travel / max(num_frames - 1, 1)
    start = rng.uniform(lo, hi, 2)
    for axis in (0, 1):
        if direction[axis] > 0:
            start[axis] = rng.uniform(lo, hi - travel)
        elif direction[axis] < 0:
            start[axis] = rng.uniform(lo + travel, hi)
    return start + np.outer(t * speed, direction)


def _video(rng: np.random.Generator, motion: str, colour: Tuple[int, int, int], num_frames: int,
           size: int, patch: int, saturation: float) -> np.ndarray:
    background = cluttered_background(rng, size, size, num_blobs=10).astype(np.float64)
    grey = background.mean(axis=2, keepdims=True)
    background = grey + saturation * (background - grey)
    fill = np.clip(np.asarray(colour) + rng.normal(0, 8, 3), 0, 255)
    frames = []
    for x, y in _trajectory(rng, motion, num_frames, size, patch):
        frame = background + rng.normal(0, 3, background.shape)
        x0, y0 = int(round(x)), int(round(y))
        frame[y0:y0 + patch, x0:x0 + patch] = fill
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return np.stack(frames)


def _write_mp4(path: str, frames: np.ndarray, fps: int = 8) -> None:
    import cv2  # opencv is an mmcv dependency; only the mp4 variant needs it

    os.makedirs(osp.dirname(path), exist_ok=True)
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {path}; pass write_videos=False')
    for frame in frames:
        writer.write(frame[..., ::-1].copy())  # RGB -> BGR
    writer.release()


def generate_video(out_dir: str,
                   seed: int = 0,
                   num_classes: int = 6,
                   num_train_per_class: int = 8,
                   num_val_per_class: int = 4,
                   frames_range: Tuple[int, int] = (12, 20),
                   frame_size: int = 64,
                   patch_size: int = 16,
                   colour_per_class: bool = True,
                   background_saturation: float = 0.0,
                   write_videos: bool = True) -> List[str]:
    """Write tiny rawframe videos into ``out_dir``.

    Args:
        out_dir: Dataset root.
        seed: Random seed.
        num_classes: Number of classes, the first of :data:`VIDEO_CLASSES` (at most 6).
        num_train_per_class: Training videos per class.
        num_val_per_class: Validation videos per class.
        frames_range: Inclusive range of the number of frames per video.
        frame_size: Side of the square frames in pixels.
        patch_size: Side of the moving patch in pixels.
        colour_per_class: Patch colour tied to the class; otherwise random from the palette,
            so only the motion tells the class.
        background_saturation: Colour saturation of the cluttered background, 0 (grey: the
            patch is the only coloured region) to 1 (the clutter's own random colours).
        write_videos: Also write ``videos/<video>.mp4`` and the ``*_list_videos.txt`` lists
            (needs OpenCV).

    Returns:
        Summary lines of what was written.
    """
    if not 1 <= num_classes <= len(VIDEO_CLASSES):
        raise ValueError(f'num_classes must be in 1..{len(VIDEO_CLASSES)}')
    classes = VIDEO_CLASSES[:num_classes]
    write_lines(osp.join(out_dir, 'classes.txt'), [c[0] for c in classes])
    summary = []
    splits = (('train', num_train_per_class), ('val', num_val_per_class))
    for split_key, (split, per_class) in enumerate(splits):
        raw_lines, video_lines, total_frames = [], [], 0
        for label, (name, motion, colour) in enumerate(classes):
            for i in range(per_class):
                rng = child_rng(seed, split_key, label, i)
                num_frames = int(rng.integers(frames_range[0], frames_range[1] + 1))
                if not colour_per_class:
                    colour = PALETTE[int(rng.integers(len(PALETTE)))]
                frames = _video(rng, motion, colour, num_frames, frame_size, patch_size,
                                background_saturation)
                video = f'{split}_{name}_{i:04d}'
                for t, frame in enumerate(frames):
                    save_image(osp.join(out_dir, 'rawframes', video, f'img_{t + 1:05d}.jpg'), frame)
                raw_lines.append(f'{video} {num_frames} {label}')
                total_frames += num_frames
                if write_videos:
                    _write_mp4(osp.join(out_dir, 'videos', f'{video}.mp4'), frames)
                    video_lines.append(f'{video}.mp4 {label}')
        write_lines(osp.join(out_dir, f'{split}_list_rawframes.txt'), raw_lines)
        if write_videos:
            write_lines(osp.join(out_dir, f'{split}_list_videos.txt'), video_lines)
        summary.append(
            f'{split}_list_rawframes.txt: {len(raw_lines)} videos ({num_classes} classes), '
            f'{total_frames} frames {frame_size}x{frame_size} in rawframes/<video>/img_*.jpg' +
            (f'; {split}_list_videos.txt + videos/*.mp4' if write_videos else ''))
    return summary
