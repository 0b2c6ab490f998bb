# Copyright (c) dynamicnet contributors. All rights reserved.
"""Video transforms in mmaction2 1.2's result-dict format.

mmaction2 1.2.0 from PyPI cannot be used beside dynamicnet's pinned stack (its wheel lacks
``mmaction/models/localizers/drn``, so ``mmaction.models`` and every ``default_scope='mmaction'``
model lookup fail; see ``configs/adafocus/README.md``). These transforms re-implement the subset
that TSN-style 2D video recognition needs, with mmaction2's keys and semantics
(``mmaction/datasets/transforms/{loading,processing,formatting}.py``):

* :class:`SampleFrames`: TSN segment sampling (train: a random frame per segment; test: the
  centre of each segment for ``clip_len = 1``), 0-based offsets plus ``start_index``.
  :class:`SampleFrameGroups` (dynamicnet): several independent TSN samplings of one video,
  concatenated (AdaFocus on Something-Something: 8 glancer + 12 focuser frames).
* :class:`RawFrameDecode`: reads ``frame_dir/filename_tmpl.format(index + offset)`` as RGB.
* :class:`OpenCVInit` / :class:`OpenCVDecode`: on-the-fly decoding of video files (mmaction2's
  OpenCV path; ``decord`` is not in the stack).
* :class:`VideoResize` (mmaction2 ``Resize``), :class:`MultiScaleCrop`, :class:`VideoCenterCrop`
  (``CenterCrop``), :class:`VideoFlip` (``Flip``): the same operation on every frame of the
  clip. Renamed where mmcv registers an image transform of the same name in the root registry.
* :class:`FormatShape` (``'NCHW'``) and :class:`PackActionInputs`: ``inputs`` ``(N, C, H, W)``
  uint8 tensor (``N = num_clips * clip_len``) and an mmpretrain :class:`DataSample` with
  ``gt_label`` (so mmpretrain's data preprocessor and metrics apply).

Frames are ``(H, W, 3)`` uint8 RGB arrays in ``results['imgs']`` (a list).
"""
import copy
import os.path as osp
import random
from typing import Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.fileio import get
from mmpretrain.structures import DataSample

from dynamicnet.registry import TRANSFORMS

__all__ = [
    'SampleFrames', 'SampleFrameGroups', 'RawFrameDecode', 'OpenCVInit', 'OpenCVDecode',
    'VideoResize', 'MultiScaleCrop', 'VideoCenterCrop', 'VideoFlip', 'FormatShape',
    'PackActionInputs'
]


def _pair(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    return (size, size) if isinstance(size, int) else tuple(size)


def _crop(results: dict, x1: int, y1: int, width: int, height: int) -> dict:
    """Crop every frame to ``[y1, y1 + height) x [x1, x1 + width)`` (pixels)."""
    img_h, img_w = results['img_shape']
    results['crop_bbox'] = np.array([x1, y1, x1 + width, y1 + height])
    quad = results.get('crop_quadruple', np.array([0, 0, 1, 1], dtype=np.float32))
    results['crop_quadruple'] = np.array([
        quad[0] + x1 / img_w * quad[2], quad[1] + y1 / img_h * quad[3],
        width / img_w * quad[2], height / img_h * quad[3]
    ], dtype=np.float32)
    results['imgs'] = [img[y1:y1 + height, x1:x1 + width] for img in results['imgs']]
    results['img_shape'] = (height, width)
    return results


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """TSN-style frame sampling (mmaction2 ``SampleFrames`` without ``target_fps``).

    Required keys: ``total_frames``, ``start_index``. Added: ``frame_inds`` (int32,
    ``num_clips * clip_len``), ``clip_len``, ``frame_interval``, ``num_clips``.

    Args:
        clip_len: Frames per clip (1 for 2D/TSN models: one frame per segment).
        frame_interval: Temporal stride inside a clip.
        num_clips: Number of clips (= segments ``T`` for TSN).
        temporal_jitter: Random per-frame offset in ``[0, frame_interval)``.
        twice_sample: Test-time: also sample the segment starts (TSM).
        out_of_bound_opt: ``'loop'`` or ``'repeat_last'``.
        test_mode: Deterministic test sampling.
        keep_tail_frames: Float segment length in training (covers the tail).
    """

    def __init__(self,
                 clip_len: int,
                 frame_interval: int = 1,
                 num_clips: int = 1,
                 temporal_jitter: bool = False,
                 twice_sample: bool = False,
                 out_of_bound_opt: str = 'loop',
                 test_mode: bool = False,
                 keep_tail_frames: bool = False) -> None:
        if out_of_bound_opt not in ('loop', 'repeat_last'):
            raise ValueError(f'out_of_bound_opt must be loop or repeat_last, got '
                             f'{out_of_bound_opt!r}')
        self.clip_len = clip_len
        self.frame_interval = frame_interval
        self.num_clips = num_clips
        self.temporal_jitter = temporal_jitter
        self.twice_sample = twice_sample
        self.out_of_bound_opt = out_of_bound_opt
        self.test_mode = test_mode
        self.keep_tail_frames = keep_tail_frames

    def _train_offsets(self, num_frames: int, ori_clip_len: int) -> np.ndarray:
        if self.keep_tail_frames:
            avg = (num_frames - ori_clip_len + 1) / float(self.num_clips)
            if num_frames > ori_clip_len - 1:
                base = np.arange(self.num_clips) * avg
                return (base + np.random.uniform(0, avg, self.num_clips)).astype(np.int32)
            return np.zeros((self.num_clips, ), dtype=np.int32)
        avg = (num_frames - ori_clip_len + 1) // self.num_clips
        if avg > 0:
            return np.arange(self.num_clips) * avg + np.random.randint(avg, size=self.num_clips)
        if num_frames > max(self.num_clips, ori_clip_len):
            return np.sort(np.random.randint(num_frames - ori_clip_len + 1, size=self.num_clips))
        if avg == 0:
            ratio = (num_frames - ori_clip_len + 1.0) / self.num_clips
            return np.around(np.arange(self.num_clips) * ratio)
        return np.zeros((self.num_clips, ), dtype=np.int32)

    def _test_offsets(self, num_frames: int, ori_clip_len: int) -> np.ndarray:
        if self.clip_len == 1:
            avg = num_frames / float(self.num_clips)
            base = np.arange(self.num_clips) * avg
            offsets = base + avg / 2.0
            return np.concatenate([offsets, base]) if self.twice_sample else offsets
        max_offset = max(num_frames - ori_clip_len, 0)
        num_clips = self.num_clips * 2 if self.twice_sample else self.num_clips
        if num_clips > 1:
            between = max_offset / float(self.num_clips - 1)
            return np.round(np.arange(num_clips) * between)
        return np.array([max_offset // 2])

    def transform(self, results: dict) -> dict:
        total = results['total_frames']
        if self.test_mode:
            ori_clip_len = (self.clip_len - 1) * self.frame_interval + 1
            offsets = self._test_offsets(total, ori_clip_len)
        else:
            ori_clip_len = self.clip_len * self.frame_interval
            offsets = self._train_offsets(total, ori_clip_len)
        inds = offsets[:, None] + np.arange(self.clip_len)[None, :] * self.frame_interval
        inds = np.concatenate(inds)
        if self.temporal_jitter:
            inds = inds + np.random.randint(self.frame_interval, size=len(inds))
        inds = inds.reshape((-1, self.clip_len))
        if self.out_of_bound_opt == 'loop':
            inds = np.mod(inds, total)
        else:
            safe = inds < total
            last = np.max(safe * inds, axis=1)
            inds = safe * inds + ((1 - safe).T * last).T
        results['frame_inds'] = (np.concatenate(inds) + results['start_index']).astype(np.int32)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = self.frame_interval
        results['num_clips'] = self.num_clips
        return results


@TRANSFORMS.register_module()
class SampleFrameGroups(BaseTransform):
    """Independent TSN samplings (``clip_len = 1``) of one video, concatenated in order.

    AdaFocus' Something-Something path feeds its glancer and its focuser different frames, 8 and
    12 TSN segments of the same video (AdaFocus issue #8): ``num_clips=(8, 12)`` gives 20
    ``frame_inds``, the 8 glancer frames first. The later transforms treat them as one clip (same
    crop and flip for all frames).

    Required keys: ``total_frames``, ``start_index``. Added: ``frame_inds``, ``clip_len`` (1),
    ``frame_interval``, ``num_clips`` (the total) and ``frame_groups`` (``num_clips`` as given).

    Args:
        num_clips: Segments of each group.
        **kwargs: ``frame_interval``, ``out_of_bound_opt``, ``test_mode``, ``keep_tail_frames``
            of :class:`SampleFrames`.
    """

    def __init__(self, num_clips: Sequence[int], **kwargs) -> None:
        self.num_clips = tuple(int(n) for n in num_clips)
        self.samplers = [SampleFrames(clip_len=1, num_clips=n, **kwargs) for n in self.num_clips]

    def transform(self, results: dict) -> dict:
        groups = [sampler.transform(dict(results))['frame_inds'] for sampler in self.samplers]
        results['frame_inds'] = np.concatenate(groups)
        results['clip_len'] = 1
        results['frame_interval'] = self.samplers[0].frame_interval
        results['num_clips'] = sum(self.num_clips)
        results['frame_groups'] = self.num_clips
        return results


@TRANSFORMS.register_module()
class RawFrameDecode(BaseTransform):
    """Read the sampled frames ``frame_dir/filename_tmpl.format(index + offset)`` as RGB.

    Required keys: ``frame_dir``, ``filename_tmpl``, ``frame_inds`` (and ``offset``, 0 if
    absent). Added: ``imgs``, ``img_shape``, ``original_shape``. Repeated indices are decoded once.

    Args:
        decoding_backend: mmcv image backend (``'cv2'``, ``'pillow'``, ``'turbojpeg'``).
        backend_args: mmengine file backend arguments.
    """

    def __init__(self, decoding_backend: str = 'cv2', backend_args: Optional[dict] = None):
        self.decoding_backend = decoding_backend
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        inds = np.asarray(results['frame_inds']).reshape(-1)
        offset = results.get('offset', 0)
        decoded = {}
        imgs = []
        for index in inds.tolist():
            if index not in decoded:
                path = osp.join(results['frame_dir'],
                                results['filename_tmpl'].format(index + offset))
                decoded[index] = mmcv.imfrombytes(
                    get(path, backend_args=self.backend_args),
                    channel_order='rgb',
                    backend=self.decoding_backend)
                imgs.append(decoded[index])
            else:
                imgs.append(copy.deepcopy(decoded[index]))
        results['imgs'] = imgs
        results['original_shape'] = imgs[0].shape[:2]
        results['img_shape'] = imgs[0].shape[:2]
        return results


@TRANSFORMS.register_module()
class OpenCVInit(BaseTransform):
    """Open ``filename`` with :class:`mmcv.VideoReader`; sets ``video_reader`` and
    ``total_frames`` (local files only)."""

    def transform(self, results: dict) -> dict:
        reader = mmcv.VideoReader(results['filename'])
        results['video_reader'] = reader
        results['total_frames'] = len(reader)
        return results


@TRANSFORMS.register_module()
class OpenCVDecode(BaseTransform):
    """Decode ``frame_inds`` (0-based, ``start_index = 0``) from ``video_reader`` to RGB frames.

    As mmaction2: a frame OpenCV cannot return (the last one sometimes) is replaced by the
    nearest earlier frame.
    """

    def transform(self, results: dict) -> dict:
        reader = results.pop('video_reader')
        imgs = []
        for index in np.asarray(results['frame_inds']).reshape(-1).tolist():
            frame = reader[index]
            while frame is None and index > 0:
                index -= 1
                frame = reader[index]
            if frame is None:
                raise IOError(f'cannot decode any frame of {results["filename"]}')
            imgs.append(np.ascontiguousarray(frame[..., ::-1]))  # BGR -> RGB
        results['video_reader'] = None
        results['imgs'] = imgs
        results['original_shape'] = imgs[0].shape[:2]
        results['img_shape'] = imgs[0].shape[:2]
        return results


@TRANSFORMS.register_module()
class VideoResize(BaseTransform):
    """mmaction2 ``Resize`` on every frame.

    Args:
        scale: ``keep_ratio=True``: a float factor, or ``(w, h)`` bounds where ``-1`` means
            "unbounded" (``(-1, 256)``: short side 256); ``keep_ratio=False``: the output
            ``(w, h)``.
        keep_ratio: Keep the aspect ratio.
        interpolation: mmcv interpolation name.
    """

    def __init__(self,
                 scale: Union[float, Tuple[int, int]],
                 keep_ratio: bool = True,
                 interpolation: str = 'bilinear') -> None:
        if isinstance(scale, (tuple, list)):
            scale = tuple(scale)
            if min(scale) == -1:
                scale = (np.inf, max(scale))
        elif not isinstance(scale, float):
            raise TypeError(f'scale must be a float or a tuple, got {type(scale)}')
        self.scale = scale
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        img_h, img_w = results['img_shape']
        if self.keep_ratio:
            new_w, new_h = mmcv.rescale_size((img_w, img_h), self.scale)
        else:
            new_w, new_h = self.scale
        factor = np.array([new_w / img_w, new_h / img_h], dtype=np.float32)
        results['scale_factor'] = results.get('scale_factor', np.ones(2, np.float32)) * factor
        results['keep_ratio'] = self.keep_ratio
        results['img_shape'] = (new_h, new_w)
        results['imgs'] = [
            mmcv.imresize(img, (new_w, new_h), interpolation=self.interpolation)
            for img in results['imgs']
        ]
        return results


@TRANSFORMS.register_module()
class MultiScaleCrop(BaseTransform):
    """mmaction2 ``MultiScaleCrop`` (TSN ``GroupMultiScaleCrop``): one crop for all frames.

    Crop sides are ``int(min(H, W) * s)`` for ``s`` in ``scales``, width and height scale
    indices at most ``max_wh_scale_gap`` apart; a side within 2 px of ``input_size`` snaps to it.
    The offset is one of 5 (or 13) fixed positions, or uniform with ``random_crop``. The crop is
    not resized here (follow with :class:`VideoResize` ``keep_ratio=False``).

    Args:
        input_size: ``(w, h)`` (or an int) of the network input.
        scales: Scale factors.
        max_wh_scale_gap: Maximum difference of the width and height scale indices.
        random_crop: Uniform offsets instead of fixed positions.
        num_fixed_crops: 5 or 13.
    """

    def __init__(self,
                 input_size: Union[int, Tuple[int, int]],
                 scales: Tuple[float, ...] = (1, ),
                 max_wh_scale_gap: int = 1,
                 random_crop: bool = False,
                 num_fixed_crops: int = 5) -> None:
        if num_fixed_crops not in (5, 13):
            raise ValueError(f'num_fixed_crops must be 5 or 13, got {num_fixed_crops}')
        self.input_size = _pair(input_size)
        self.scales = tuple(scales)
        self.max_wh_scale_gap = max_wh_scale_gap
        self.random_crop = random_crop
        self.num_fixed_crops = num_fixed_crops

    def transform(self, results: dict) -> dict:
        img_h, img_w = results['img_shape']
        sizes = [int(min(img_h, img_w) * s) for s in self.scales]
        candidates = [[w, h] for i, h in enumerate(sizes) for j, w in enumerate(sizes)
                      if abs(i - j) <= self.max_wh_scale_gap]
        crop = random.choice(candidates)
        for i in range(2):
            if abs(crop[i] - self.input_size[i]) < 3:
                crop[i] = self.input_size[i]
        crop_w, crop_h = crop
        if self.random_crop:
            x1, y1 = random.randint(0, img_w - crop_w), random.randint(0, img_h - crop_h)
        else:
            ws, hs = (img_w - crop_w) // 4, (img_h - crop_h) // 4
            offsets = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]
            if self.num_fixed_crops == 13:
                offsets += [(0, 2 * hs), (4 * ws, 2 * hs), (2 * ws, 4 * hs), (2 * ws, 0),
                            (ws, hs), (3 * ws, hs), (ws, 3 * hs), (3 * ws, 3 * hs)]
            x1, y1 = random.choice(offsets)
        results['scales'] = self.scales
        return _crop(results, x1, y1, crop_w, crop_h)


@TRANSFORMS.register_module()
class VideoCenterCrop(BaseTransform):
    """mmaction2 ``CenterCrop``: top-left ``((W - w) // 2, (H - h) // 2)``.

    Args:
        crop_size: ``(w, h)`` or an int.
    """

    def __init__(self, crop_size: Union[int, Tuple[int, int]]) -> None:
        self.crop_size = _pair(crop_size)

    def transform(self, results: dict) -> dict:
        img_h, img_w = results['img_shape']
        crop_w, crop_h = self.crop_size
        return _crop(results, (img_w - crop_w) // 2, (img_h - crop_h) // 2, crop_w, crop_h)


@TRANSFORMS.register_module()
class VideoFlip(BaseTransform):
    """mmaction2 ``Flip`` (RGB): the same random flip for every frame.

    Args:
        flip_ratio: Probability of flipping.
        direction: ``'horizontal'`` or ``'vertical'``.
        flip_label_map: Label substitutions applied when flipped (e.g. Something-Something's
            left/right classes).
    """

    def __init__(self,
                 flip_ratio: float = 0.5,
                 direction: str = 'horizontal',
                 flip_label_map: Optional[dict] = None) -> None:
        if direction not in ('horizontal', 'vertical'):
            raise ValueError(f'direction must be horizontal or vertical, got {direction!r}')
        self.flip_ratio = flip_ratio
        self.direction = direction
        self.flip_label_map = flip_label_map

    def transform(self, results: dict) -> dict:
        flip = np.random.rand() < self.flip_ratio
        results['flip'] = flip
        results['flip_direction'] = self.direction
        if flip:
            if self.flip_label_map is not None:
                results['label'] = self.flip_label_map.get(results['label'], results['label'])
            results['imgs'] = [mmcv.imflip(img, self.direction) for img in results['imgs']]
        return results


@TRANSFORMS.register_module()
class FormatShape(BaseTransform):
    """Stack the frames: ``'NCHW'`` -> ``(num_clips * clip_len, C, H, W)``.

    Args:
        input_format: Only ``'NCHW'`` (2D recognisers) is implemented.
    """

    def __init__(self, input_format: str = 'NCHW') -> None:
        if input_format != 'NCHW':
            raise ValueError(f'only NCHW is implemented, got {input_format!r}')
        self.input_format = input_format

    def transform(self, results: dict) -> dict:
        imgs = np.stack(results['imgs'])
        results['imgs'] = np.ascontiguousarray(imgs.transpose(0, 3, 1, 2))
        results['input_shape'] = results['imgs'].shape
        return results


@TRANSFORMS.register_module()
class PackActionInputs(BaseTransform):
    """``inputs``: the ``(N, C, H, W)`` uint8 tensor; ``data_samples``: :class:`DataSample`.

    ``label`` is an int (single-label) or a one-hot/multi-hot vector (``multi_class`` lists,
    stored as ``gt_score``).

    Args:
        meta_keys: Result keys copied into the data sample's metainfo.
    """

    def __init__(self,
                 meta_keys: Sequence[str] = ('frame_dir', 'filename', 'total_frames', 'img_shape',
                                             'frame_inds', 'num_clips', 'clip_len')) -> None:
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        sample = DataSample()
        label = results.get('label')
        if isinstance(label, (torch.Tensor, np.ndarray)) and np.ndim(label) == 1 and len(
                label) > 1:
            sample.set_gt_score(torch.as_tensor(label, dtype=torch.float32))
        elif label is not None:
            sample.set_gt_label(int(label))
        sample.set_metainfo({k: results[k] for k in self.meta_keys if k in results})
        return dict(inputs=torch.from_numpy(results['imgs']), data_samples=sample)
