# Copyright (c) dynamicnet contributors. All rights reserved.
"""What ``tools/train.py`` and ``tools/test.py`` do between parsing arguments and running.

The tools keep mmdet3d 1.4's command-line interface (``--work-dir``, ``--cfg-options``,
``--resume``, ``--amp``, ``--launcher``, ...); this module holds the logic so that it is tested and
shared:

* :func:`load_config` reads a config and merges ``--cfg-options``, turning a missing file or a
  malformed option into an error that names it.
* :func:`apply_train_args` / :func:`apply_test_args` apply the flags as mmdet3d's tools do.
* :func:`adapt_to_machine` lets one config run on a GPU cluster and on a CPU-only machine: without
  CUDA a distributed launch uses ``gloo`` and a CPU ``MMDistributedDataParallel``
  (``device_ids=None``) (``openmmlab.md`` §4.8).
* :func:`validate_config` checks data roots and the types of well-known keys before the Runner
  starts, so that bad input fails in seconds with the key or path and the fix.
* :func:`close_distributed` ends a distributed run in step on every rank.
"""
import logging
import os
import os.path as osp
from typing import Any, Iterable, List, Optional, Sequence

import torch
from mmengine.config import Config, ConfigDict
from mmengine.logging import print_log

from dynamicnet.utils.errors import ConfigKeyTypeError, DataRootNotFoundError

__all__ = [
    'load_config', 'apply_train_args', 'apply_test_args', 'adapt_to_machine', 'validate_config',
    'dataloader_dataset_cfgs', 'close_distributed'
]


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """Load a config file and merge command-line overrides.

    Raises:
        FileNotFoundError: naming the path when the config does not exist.
    """
    if not osp.isfile(path):
        hint = ''
        if not osp.isabs(path) and osp.isfile(osp.join('configs', path)):
            hint = f" Did you mean 'configs/{path}'?"
        raise FileNotFoundError(f'Config file {path!r} does not exist.{hint}')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def _apply_common_args(cfg: Config, args) -> None:
    """``--launcher`` and ``--work-dir`` (CLI > config > ``./work_dirs/<config stem>``)."""
    cfg.launcher = args.launcher
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs', osp.splitext(osp.basename(args.config))[0])


def apply_train_args(cfg: Config, args) -> Config:
    """Apply ``tools/train.py`` flags to ``cfg`` exactly as mmdet3d 1.4's ``train.py`` does."""
    _apply_common_args(cfg, args)
    if args.amp:
        optim_type = cfg.optim_wrapper.get('type', 'OptimWrapper')
        if optim_type == 'AmpOptimWrapper':
            print_log('AMP training is already enabled in your config.', logger='current',
                      level=logging.WARNING)
        elif optim_type != 'OptimWrapper':
            raise ValueError('--amp needs optim_wrapper.type == "OptimWrapper", got '
                             f'{optim_type!r} (set it in the config or drop --amp).')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            cfg.optim_wrapper.loss_scale = 'dynamic'

    if getattr(args, 'sync_bn', 'none') != 'none':
        cfg.sync_bn = args.sync_bn

    if getattr(args, 'auto_scale_lr', False):
        auto = cfg.get('auto_scale_lr', None)
        if not auto or 'base_batch_size' not in auto:
            raise KeyError('--auto-scale-lr needs `auto_scale_lr = dict(enable=False, '
                           'base_batch_size=...)` in the config.')
        cfg.auto_scale_lr.enable = True

    if args.resume == 'auto':
        cfg.resume = True
        cfg.load_from = None
    elif args.resume is not None:
        if not osp.isfile(args.resume):
            raise FileNotFoundError(f'--resume checkpoint {args.resume!r} does not exist.')
        cfg.resume = True
        cfg.load_from = args.resume
    return cfg


def apply_test_args(cfg: Config, args) -> Config:
    """Apply ``tools/test.py`` flags (mmdet3d 1.4 semantics) to ``cfg``."""
    _apply_common_args(cfg, args)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'Checkpoint {args.checkpoint!r} does not exist.')
    cfg.load_from = args.checkpoint
    if getattr(args, 'tta', False):
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            raise KeyError('--tta needs `tta_model` and `tta_pipeline` in the config.')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.model = ConfigDict(**cfg.tta_model, module=cfg.model)
    return cfg


def adapt_to_machine(cfg: Config) -> Config:
    """Make a distributed config run where CUDA is absent (gloo, CPU DDP); no-op with CUDA."""
    if cfg.get('launcher', 'none') == 'none' or torch.cuda.is_available():
        return cfg
    env_cfg = cfg.setdefault('env_cfg', ConfigDict())
    dist_cfg = env_cfg.setdefault('dist_cfg', ConfigDict())
    if dist_cfg.get('backend', 'nccl') == 'nccl':
        dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg', None)
    if wrapper is None:
        cfg.model_wrapper_cfg = ConfigDict(
            type='MMDistributedDataParallel',
            device_ids=None,
            broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
    else:
        wrapper.setdefault('device_ids', None)
    return cfg


def close_distributed() -> None:
    """Wait for every rank, then destroy the default process group (no-op when not distributed).

    Left to interpreter shutdown, a rank that finishes first can tear down gloo's threads while
    they still serve its peer: on CPU a two-process run that had saved its last checkpoint
    aborted in a clean-clone run of the test suite ('terminate called without an active
    exception', SIGABRT).
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


def dataloader_dataset_cfgs(cfg: Config) -> List[tuple]:
    """``(key path, dataset cfg)`` of every leaf dataset in the train/val/test dataloaders.

    Wrappers (``RepeatDataset``, ``ConcatDataset``, ``ClassBalancedDataset``, dynamicnet's
    episodic wrapper...) are descended through their ``dataset`` / ``datasets`` keys.
    """
    found = []

    def walk(node: Any, path: str) -> None:
        if not isinstance(node, dict):
            return
        inner = node.get('dataset', None)
        many = node.get('datasets', None)
        if isinstance(inner, dict):
            walk(inner, f'{path}.dataset')
        elif isinstance(many, (list, tuple)):
            for i, item in enumerate(many):
                walk(item, f'{path}.datasets[{i}]')
        else:
            found.append((path, node))

    for split in ('train', 'val', 'test'):
        loader = cfg.get(f'{split}_dataloader', None)
        if isinstance(loader, dict) and isinstance(loader.get('dataset', None), dict):
            walk(loader['dataset'], f'{split}_dataloader.dataset')
    return found


def _check_data_roots(cfg: Config, splits: Sequence[str]) -> None:
    from dynamicnet.utils.errors import data_root_hint

    for path, ds in dataloader_dataset_cfgs(cfg):
        if path.split('_', 1)[0] not in splits:
            continue
        root = ds.get('data_root', None)
        if root is None or not isinstance(root, str) or root.startswith(('s3:', 'http')):
            continue
        if not osp.isdir(root):
            raise DataRootNotFoundError(
                f'{path}.data_root = {root!r} does not exist (cwd: {os.getcwd()}).\n'
                + data_root_hint(str(ds.get('type', '')), root))


# (key path, accepted types, what it means) for keys whose wrong type otherwise fails deep inside
# the Runner with an unrelated message.
_TYPED_KEYS = [
    ('train_cfg.max_epochs', (int, ), 'number of training epochs'),
    ('train_cfg.max_iters', (int, ), 'number of training iterations'),
    ('train_cfg.val_interval', (int, ), 'validate every N epochs/iterations'),
    ('train_dataloader.batch_size', (int, ), 'samples per GPU/process'),
    ('val_dataloader.batch_size', (int, ), 'samples per GPU/process'),
    ('test_dataloader.batch_size', (int, ), 'samples per GPU/process'),
    ('train_dataloader.num_workers', (int, ), 'dataloader worker processes'),
    ('val_dataloader.num_workers', (int, ), 'dataloader worker processes'),
    ('test_dataloader.num_workers', (int, ), 'dataloader worker processes'),
    ('optim_wrapper.optimizer.lr', (int, float), 'learning rate'),
    ('optim_wrapper.optimizer.weight_decay', (int, float), 'weight decay'),
    ('randomness.seed', (int, type(None)), 'random seed'),
    ('work_dir', (str, ), 'output directory'),
    ('load_from', (str, type(None)), 'checkpoint path'),
    ('resume', (bool, ), 'resume flag'),
    ('default_scope', (str, ), 'registry scope'),
]


def _lookup(cfg: Config, dotted: str):
    node: Any = cfg._cfg_dict if isinstance(cfg, Config) else cfg
    for part in dotted.split('.'):
        if not isinstance(node, dict) or part not in node:
            return _MISSING
        node = node[part]
    return node


_MISSING = object()


def _check_key_types(cfg: Config, keys: Iterable[tuple] = _TYPED_KEYS) -> None:
    for dotted, types, meaning in keys:
        value = _lookup(cfg, dotted)
        if value is _MISSING:
            continue
        if isinstance(value, bool) and bool not in types:
            ok = False
        else:
            ok = isinstance(value, types)
        if not ok:
            names = ' or '.join('None' if t is type(None) else t.__name__ for t in types)
            raise ConfigKeyTypeError(
                f'Config key `{dotted}` ({meaning}) must be {names}, got {type(value).__name__} '
                f'{value!r}. Fix it in the config or with --cfg-options {dotted}=<value>.')


def validate_config(cfg: Config, splits: Sequence[str] = ('train', 'val', 'test')) -> None:
    """Fail fast on wrongly typed well-known keys and on missing data roots."""
    _check_key_types(cfg)
    _check_data_roots(cfg, splits)
