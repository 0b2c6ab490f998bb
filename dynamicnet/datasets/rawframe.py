# Copyright (c) dynamicnet contributors. All rights reserved.
"""mmaction2-format video annotation lists: rawframe and video datasets.

Re-implementations of mmaction2 1.2's ``RawframeDataset`` and ``VideoDataset`` (the PyPI wheel of
mmaction2 1.2.0 cannot be imported beside the pinned stack, see ``configs/adafocus/README.md``).
The list formats are mmaction2's (and TSN's / AdaFocus' ``ops/dataset.py``):

* rawframes: ``<frame_dir> [<offset>] <total_frames> <label> [<label> ...]`` per line, frames
  ``data_prefix['img']/<frame_dir>/filename_tmpl.format(i)``, ``i`` from ``start_index`` (1);
* videos: ``<filename> <label> [<label> ...]`` per line, files under ``data_prefix['video']``.

Each data info carries ``frame_dir``/``filename``, ``total_frames`` (rawframes), ``label`` (an
int, or a multi-hot ``(num_classes,)`` float tensor with ``multi_class``), ``modality`` and
``start_index``: the keys :mod:`dynamicnet.datasets.transforms.video` consumes.
"""
import os
import os.path as osp
from typing import List, Optional

import torch
from mmengine.dataset import BaseDataset
from mmengine.fileio import list_from_file

from dynamicnet.registry import DATASETS

__all__ = ['BaseVideoDataset', 'RawframeDataset', 'VideoDataset']


class BaseVideoDataset(BaseDataset):
    """Common part of the video datasets (mmaction2 ``BaseActionDataset``).

    Args:
        ann_file: Annotation list.
        pipeline: Transforms.
        data_prefix: Root of the frame directories / video files.
        multi_class: Several labels per line (multi-hot targets, needs ``num_classes``).
        num_classes: Number of classes.
        start_index: Index of the first frame.
        modality: ``'RGB'``.
        **kwargs: :class:`mmengine.dataset.BaseDataset` arguments (``test_mode``,
            ``metainfo``, ``indices``, ...).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: list,
                 data_prefix: Optional[dict] = None,
                 multi_class: bool = False,
                 num_classes: Optional[int] = None,
                 start_index: int = 0,
                 modality: str = 'RGB',
                 **kwargs) -> None:
        if multi_class and num_classes is None:
            raise ValueError('multi_class needs num_classes')
        self.multi_class = multi_class
        self.num_classes = num_classes
        self.start_index = start_index
        self.modality = modality
        super().__init__(ann_file, data_prefix=data_prefix or {}, pipeline=pipeline, **kwargs)

    def _labels(self, fields: List[str]):
        labels = [int(x) for x in fields] or [-1]  # -1: inference list without labels
        if self.multi_class:
            return labels
        if len(labels) != 1:
            raise ValueError(f'{len(labels)} labels on one line of {self.ann_file}; '
                             'set multi_class=True')
        return labels[0]

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info['modality'] = self.modality
        info['start_index'] = self.start_index
        if self.multi_class:
            onehot = torch.zeros(self.num_classes)
            onehot[info['label']] = 1.0
            info['label'] = onehot
        return info


@DATASETS.register_module()
class RawframeDataset(BaseVideoDataset):
    """Videos stored as extracted frames (mmaction2 ``RawframeDataset``).

    Args:
        ann_file: ``<frame_dir> [<offset>] <total_frames> <label>...`` per line.
        pipeline: Transforms.
        data_prefix: ``dict(img=<root of the frame directories>)``.
        filename_tmpl: Frame file name template (``'img_{:05}.jpg'``; AdaFocus' extraction:
            ``'image_{:05d}.jpg'``).
        with_offset: Lines carry the start offset of a clip inside a long video.
        check_frames: Verify, for every video, that frame ``total_frames`` exists and frame
            ``total_frames + 1`` does not (an annotation list made at a different extraction
            fps than the frames; AdaFocus issue #5). Lists all mismatches in one error.
        start_index: First frame index (1: frames are numbered from 1).
        **kwargs: See :class:`BaseVideoDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: list,
                 data_prefix: Optional[dict] = None,
                 filename_tmpl: str = 'img_{:05}.jpg',
                 with_offset: bool = False,
                 check_frames: bool = False,
                 start_index: int = 1,
                 **kwargs) -> None:
        self.filename_tmpl = filename_tmpl
        self.with_offset = with_offset
        self.check_frames = check_frames
        super().__init__(
            ann_file,
            pipeline,
            data_prefix=data_prefix or dict(img=''),
            start_index=start_index,
            **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = []
        for line in list_from_file(self.ann_file):
            fields = line.strip().split()
            if not fields:
                continue
            frame_dir = fields[0]
            if self.data_prefix.get('img') is not None:
                frame_dir = osp.join(self.data_prefix['img'], frame_dir)
            info = dict(frame_dir=frame_dir)
            idx = 1
            if self.with_offset:
                info['offset'] = int(fields[idx])
                idx += 1
            info['total_frames'] = int(fields[idx])
            info['label'] = self._labels(fields[idx + 1:])
            data_list.append(info)
        if self.check_frames:
            self._check_frame_counts(data_list)
        return data_list

    def _check_frame_counts(self, data_list: List[dict]) -> None:
        bad = []
        for info in data_list:
            first = self.start_index + info.get('offset', 0)
            last = osp.join(info['frame_dir'],
                            self.filename_tmpl.format(first + info['total_frames'] - 1))
            beyond = osp.join(info['frame_dir'],
                              self.filename_tmpl.format(first + info['total_frames']))
            if not osp.exists(last) or (not self.with_offset and osp.exists(beyond)):
                found = len(os.listdir(info['frame_dir'])) if osp.isdir(
                    info['frame_dir']) else 0
                bad.append(f'{info["frame_dir"]}: list says {info["total_frames"]}, '
                           f'{found} files')
        if bad:
            raise ValueError(
                f'{len(bad)} videos of {self.ann_file} disagree with their frame count '
                '(frames extracted at another fps than the list assumes?):\n' +
                '\n'.join(bad[:20]))

    def get_data_info(self, idx: int) -> dict:
        info = super().get_data_info(idx)
        info['filename_tmpl'] = self.filename_tmpl
        return info


@DATASETS.register_module()
class VideoDataset(BaseVideoDataset):
    """Video files decoded on the fly (mmaction2 ``VideoDataset``; decode with
    ``OpenCVInit``/``OpenCVDecode``).

    Args:
        ann_file: ``<filename> <label>...`` per line.
        pipeline: Transforms.
        data_prefix: ``dict(video=<root of the video files>)``.
        delimiter: Field delimiter of the list.
        **kwargs: See :class:`BaseVideoDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: list,
                 data_prefix: Optional[dict] = None,
                 delimiter: str = ' ',
                 **kwargs) -> None:
        self.delimiter = delimiter
        super().__init__(ann_file, pipeline, data_prefix=data_prefix or dict(video=''), **kwargs)

    def load_data_list(self) -> List[dict]:
        data_list = []
        for line in list_from_file(self.ann_file):
            fields = line.strip().split(self.delimiter)
            if not fields or not fields[0]:
                continue
            filename = fields[0]
            if self.data_prefix.get('video') is not None:
                filename = osp.join(self.data_prefix['video'], filename)
            data_list.append(dict(filename=filename, label=self._labels(fields[1:])))
        return data_list
