# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny datasets in the real on-disk formats of the upstream dataset classes.

Every generator is seeded, runs in seconds on one CPU core, needs only numpy and Pillow, and
writes files that the **unchanged** upstream dataset classes read (``ScanNetDataset``,
``ImageNet``/``CustomDataset``, ...). Contents are learnable: the class is visible as shape,
colour, size or motion, so a short training run shows the loss falling.

Use :func:`make_tiny_dataset` from Python, or the CLI::

    python tools/dataset_converters/make_tiny_data.py scannet imagenet --out data/tiny

:data:`TINY_DATASETS` describes each dataset (default root, the command that makes it, the
upstream converter for the real data, the dataset types it serves, its base config); error
messages about missing data roots are built from it.
"""
import inspect
import json
import os
import os.path as osp
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from .cityscapes import generate_cityscapes
from .coco import generate_coco
from .fewshot import generate_fewshot
from .imagenet import generate_imagenet
from .scannet import generate_scannet
from .sunrgbd import generate_sunrgbd
from .video import generate_video

__all__ = [
    'TinyDatasetInfo', 'TINY_DATASETS', 'STAMP_FILE', 'make_tiny_dataset', 'read_stamp',
    'find_tiny_datasets'
]

#: Written last into a generated root; identifies it as tiny data and records how it was made.
STAMP_FILE = '.dynamicnet_tiny.json'
#: Bumped whenever a generator's output changes, so stale copies are regenerated.
FORMAT_VERSION = 3


@dataclass(frozen=True)
class TinyDatasetInfo:
    """How a tiny dataset is made and what it stands in for.

    Attributes:
        name: Short name (``'scannet'``), also the CLI argument.
        generator: ``generator(out_dir, seed=0, **overrides) -> list[str]`` (summary lines).
        upstream: The OpenMMLab package whose dataset classes read it (``'mmdet3d'``).
        dataset_types: Upstream dataset type names it serves (``('ScanNetDataset',)``).
        converter_command: How the **real** data is prepared upstream.
        description: One line on format and content.
        default_root: ``data/tiny/<name>``.
        make_command: The CLI command that writes it to ``default_root``.
        base_config: The dataset base config that points at ``default_root``.
    """
    name: str
    generator: Callable[..., List[str]]
    upstream: str
    dataset_types: Tuple[str, ...]
    converter_command: str
    description: str
    default_root: str = field(init=False)
    make_command: str = field(init=False)
    base_config: str = field(init=False)

    def __post_init__(self) -> None:
        root = f'data/tiny/{self.name}'
        object.__setattr__(self, 'default_root', root)
        object.__setattr__(
            self, 'make_command',
            f'python tools/dataset_converters/make_tiny_data.py {self.name} --out {root}')
        object.__setattr__(self, 'base_config', f'configs/_base_/datasets/tiny_{self.name}.py')

    def hint(self) -> str:
        """Two lines for an error message: how to make the tiny data and the real data."""
        return (f'tiny {self.name} data: {self.make_command}\n'
                f'real data ({self.upstream}): {self.converter_command}')


TINY_DATASETS: Dict[str, TinyDatasetInfo] = {
    info.name: info
    for info in (
        TinyDatasetInfo(
            name='scannet',
            generator=generate_scannet,
            upstream='mmdet3d',
            dataset_types=('ScanNetDataset', ),
            converter_command=(
                'cd data/scannet && python batch_load_scannet_data.py && cd ../.. && '
                'python tools/create_data.py scannet --root-path ./data/scannet '
                '--out-dir ./data/scannet --extra-tag scannet'),
            description=('ScanNet v2 infos (scannet_infos_{train,val}.pkl), points and '
                         'instance/semantic masks (.bin); 18 classes, boxes of class-specific '
                         'size and colour')),
        TinyDatasetInfo(
            name='sunrgbd',
            generator=generate_sunrgbd,
            upstream='mmdet3d',
            dataset_types=('SUNRGBDDataset', ),
            converter_command=('cd data/sunrgbd/matlab && matlab -nosplash -nodesktop -r '
                               '"extract_split;extract_rgbd_data_v2;quit;" && cd ../../.. && '
                               'python tools/create_data.py sunrgbd --root-path ./data/sunrgbd '
                               '--out-dir ./data/sunrgbd --extra-tag sunrgbd'),
            description=('SUN RGB-D v2 infos (sunrgbd_infos_{train,val}.pkl), points .bin and '
                         'images; 10 classes, yawed boxes of class-specific size and colour')),
        TinyDatasetInfo(
            name='imagenet',
            generator=generate_imagenet,
            upstream='mmpretrain',
            dataset_types=('CustomDataset', 'ImageNet'),
            converter_command=(
                'extract ILSVRC2012 into data/imagenet/{train,val}/<wnid>/*.JPEG (class '
                'folders) or use meta/{train,val}.txt annotation files; no conversion needed'),
            description=('ImageNet-style class folders {train,val}/<class>/*.png; class = '
                         'shape + colour')),
        TinyDatasetInfo(
            name='coco',
            generator=generate_coco,
            upstream='mmdet',
            dataset_types=('CocoDataset', ),
            converter_command=(
                'python tools/misc/download_dataset.py --dataset-name coco2017 (mmdet); '
                'unzip to data/coco/{train2017,val2017,annotations}; no conversion needed'),
            description=('COCO json (annotations/instances_{train,val}2017.json) + JPEGs; '
                         'categories of class-specific shape, colour and size')),
        TinyDatasetInfo(
            name='cityscapes',
            generator=generate_cityscapes,
            upstream='mmseg',
            dataset_types=('CityscapesDataset', ),
            converter_command='python tools/dataset_converters/cityscapes.py data/cityscapes '
            '--nproc 8',
            description=('leftImg8bit/ + gtFine/*_labelTrainIds.png (trainIds 0..18, 255 '
                         'ignore); class = palette colour + texture')),
        TinyDatasetInfo(
            name='fewshot',
            generator=generate_fewshot,
            upstream='mmpretrain',
            dataset_types=('CustomDataset', ),
            converter_command=(
                'download CUB_200_2011 (images/<class>/*.jpg are read as is) and its '
                'segmentations (masks/<class>/*.png) into data/cub; write '
                'splits/{base,val,novel}.txt (class names, one per line)'),
            description=('fine-grained class folders images/<class>/*.png with binary '
                         'masks/<class>/*.png on cluttered backgrounds; '
                         'splits/{base,val,novel}.txt')),
        TinyDatasetInfo(
            name='video',
            generator=generate_video,
            upstream='mmaction2',
            dataset_types=('RawframeDataset', 'VideoDataset'),
            converter_command=(
                'mmaction2: python tools/data/build_rawframes.py data/<set>/videos '
                'data/<set>/rawframes --task rgb --level 1 && python '
                'tools/data/build_file_list.py <set> data/<set>/rawframes --format rawframes'),
            description=('mmaction2 rawframes/<video>/img_00001.jpg + '
                         '{train,val}_list_rawframes.txt (and videos/*.mp4 lists); class = '
                         'motion (and colour) of a moving patch')),
    )
}


def find_tiny_datasets(dataset_type: str) -> List[TinyDatasetInfo]:
    """The tiny datasets serving an upstream dataset type (scope prefix ignored).

    Example:
        >>> [i.name for i in find_tiny_datasets('mmdet3d.ScanNetDataset')]
        ['scannet']
    """
    name = dataset_type.rsplit('.', 1)[-1]
    return [info for info in TINY_DATASETS.values() if name in info.dataset_types]


def read_stamp(root: str) -> Optional[Dict[str, Any]]:
    """The stamp of a generated root (name, seed, overrides, summary), or ``None``."""
    path = osp.join(root, STAMP_FILE)
    if not osp.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value))


def make_tiny_dataset(name: str,
                      out_dir: str,
                      seed: int = 0,
                      force: bool = False,
                      **overrides: Any) -> str:
    """Generate tiny dataset ``name`` into ``out_dir`` unless an identical copy is there.

    The data is written to a temporary sibling directory and moved into place at the end, so
    an interrupted or concurrent run never leaves a half-written root behind. A root of the same
    dataset made with other arguments (or an older generator) is replaced. A non-empty
    directory that is not a generated root of this dataset is never touched.

    Args:
        name: A key of :data:`TINY_DATASETS`.
        out_dir: Dataset root to create.
        seed: Random seed; the bytes written are a function of ``(name, seed, overrides)``.
        force: Regenerate even if an identical copy exists.
        **overrides: Keyword arguments of the generator (e.g. ``num_train=4``).

    Returns:
        ``out_dir``.
    """
    if name not in TINY_DATASETS:
        raise KeyError(f'unknown tiny dataset {name!r}; available: {sorted(TINY_DATASETS)}')
    generator = TINY_DATASETS[name].generator
    accepted = set(inspect.signature(generator).parameters) - {'out_dir', 'seed'}
    unknown = sorted(set(overrides) - accepted)
    if unknown:
        raise TypeError(f'tiny dataset {name!r} has no option(s) {unknown}; '
                        f'options: {sorted(accepted)}')
    out_dir = os.fspath(out_dir)
    wanted = _jsonable(dict(name=name, seed=int(seed), overrides=overrides, version=FORMAT_VERSION))
    stamp = read_stamp(out_dir)
    if stamp is not None and not force and {k: stamp.get(k) for k in wanted} == wanted:
        return out_dir
    if stamp is None and osp.isdir(out_dir) and os.listdir(out_dir):
        raise FileExistsError(
            f'{out_dir} is not empty and is not a generated tiny dataset (no {STAMP_FILE}); '
            'refusing to write into it')
    if stamp is not None and stamp.get('name') != name:
        raise FileExistsError(f'{out_dir} holds the tiny {stamp.get("name")!r} dataset; '
                              f'choose another directory for {name!r}')

    parent = osp.dirname(osp.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=f'.{osp.basename(out_dir)}.', dir=parent)
    os.chmod(tmp, 0o755)
    try:
        summary = generator(tmp, seed=int(seed), **overrides)
        with open(osp.join(tmp, STAMP_FILE), 'w') as f:
            json.dump(dict(wanted, summary=summary), f, indent=1, sort_keys=True)
        if osp.isdir(out_dir):
            shutil.rmtree(out_dir)
        try:
            os.replace(tmp, out_dir)
        except OSError:
            # A concurrent run won the race; keep its copy if it is the one we want.
            stamp = read_stamp(out_dir)
            if stamp is None or {k: stamp.get(k) for k in wanted} != wanted:
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out_dir
