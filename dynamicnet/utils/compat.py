# Copyright (c) dynamicnet contributors. All rights reserved.
"""The few run-time adjustments the pinned OpenMMLab stack needs, all in one place.

Each is narrow, idempotent, applied by ``import dynamicnet`` and explained here. Installation-time
workarounds (mmcv's C++20 build, ``--no-deps`` installs, pins) live in ``tools/setup_env.sh``.

1. ``MODULE2PACKAGE['dynamicnet']``: mmengine 0.10.7 only resolves ``'pkg::path'`` config bases
   for packages in this table, so ``_base_ = 'dynamicnet::pointformer/votenet_scannet.py'``
   needs it (``openmmlab.md`` §3.3). mmengine also locates the package through its distribution
   (``pkg_resources``), which points at site-packages for editable installs; the config loader is
   given dynamicnet's real location. Finally, mmengine injects ``_scope_='<pkg>'`` into the typed
   dicts of a ``pkg::`` base. dynamicnet's configs are written for their upstream task's scope
   (they inherit its ``default_scope`` and prefix dynamicnet types), so ``dynamicnet::`` bases are
   read like relative ones: no ``_scope_`` is injected.
2. ``torch.load`` safe globals: torch >= 2.6 loads with ``weights_only=True``; mmengine 0.10.7's
   checkpoints carry ``message_hub`` state (``HistoryBuffer``, numpy scalars and arrays), so
   ``--resume`` and ``load_from`` fail. Instead of switching safe loading off, the exact classes
   mmengine writes are allow-listed (:data:`CHECKPOINT_SAFE_GLOBALS`). ``HistoryBuffer`` also
   pickled its statistics functions, which unpickle through ``builtins.getattr`` (too broad to
   allow); it now stores their names and looks them up on the class when loaded.
3. Distributed training without CUDA: mmengine's ``_init_dist_pytorch`` calls
   ``torch.cuda.set_device`` before ``init_process_group``, which fails on a CPU machine. Without
   CUDA the process group is created directly and ``nccl`` is replaced by ``gloo``. The model
   wrapper side (``device_ids=None``) is set by :func:`dynamicnet.engine.runners.adapt_to_machine`.
4. Atomic local writes: mmengine's ``LocalBackend.put``/``put_text`` (used for checkpoints and
   ``last_checkpoint``) open the target with ``'wb'`` and write in place, so a run killed while
   saving leaves a truncated checkpoint that ``--resume`` then picks. They now write a temporary
   file in the same directory, fsync it and ``os.replace`` it over the target.
"""
import functools
import os
import tempfile

import numpy as np
import torch

__all__ = ['CHECKPOINT_SAFE_GLOBALS', 'apply_compat_patches', 'atomic_write_bytes']


def _numpy_safe_globals() -> list:
    """numpy objects that appear in mmengine's pickled log history."""
    from numpy.core.multiarray import _reconstruct, scalar  # noqa: F401

    dtypes = {type(np.dtype(name)) for name in (
        'float64', 'float32', 'float16', 'int64', 'int32', 'int16', 'int8', 'uint8', 'bool')}
    return [np.ndarray, np.dtype, _reconstruct, scalar, *sorted(dtypes, key=str)]


def _mmengine_safe_globals() -> list:
    from mmengine.logging.history_buffer import HistoryBuffer

    return [HistoryBuffer]


def _history_buffer_by_name() -> None:
    from mmengine.logging.history_buffer import HistoryBuffer

    if getattr(HistoryBuffer.__getstate__, '_dynamicnet_patched', False):
        return

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop('statistics_methods', None)
        # Names only: the functions are class attributes or registered again on import.
        state['statistics_method_names'] = sorted(self._statistics_methods)
        return state

    def __setstate__(self, state: dict) -> None:
        state = dict(state)
        names = state.pop('statistics_method_names', [])
        legacy = state.pop('statistics_methods', {})
        self._set_default_statistics()
        self._statistics_methods.update(legacy)
        for name in names:
            if name not in self._statistics_methods and hasattr(type(self), name):
                self._statistics_methods[name] = getattr(type(self), name)
        self.__dict__.update(state)

    __getstate__._dynamicnet_patched = True
    HistoryBuffer.__getstate__ = __getstate__
    HistoryBuffer.__setstate__ = __setstate__


CHECKPOINT_SAFE_GLOBALS: list = []


def _allow_checkpoint_globals() -> None:
    if CHECKPOINT_SAFE_GLOBALS:
        return
    CHECKPOINT_SAFE_GLOBALS.extend(_numpy_safe_globals() + _mmengine_safe_globals())
    torch.serialization.add_safe_globals(CHECKPOINT_SAFE_GLOBALS)


def _register_config_package() -> None:
    from mmengine.config.utils import MODULE2PACKAGE

    MODULE2PACKAGE.setdefault('dynamicnet', 'dynamicnet')


def _cpu_aware_dist_init() -> None:
    import mmengine.dist.utils as dist_utils

    original = dist_utils._init_dist_pytorch
    if getattr(original, '_dynamicnet_patched', False):
        return

    @functools.wraps(original)
    def init_dist_pytorch(backend, init_backend='torch', **kwargs):
        if torch.cuda.is_available():
            return original(backend, init_backend=init_backend, **kwargs)
        if backend == 'nccl':
            backend = 'gloo'
        torch.distributed.init_process_group(
            backend=backend,
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']),
            **kwargs)

    init_dist_pytorch._dynamicnet_patched = True
    dist_utils._init_dist_pytorch = init_dist_pytorch


def atomic_write_bytes(data: bytes, filepath: str) -> None:
    """Write ``data`` to ``filepath`` so that readers see the old or the new file, never a part."""
    directory = os.path.dirname(os.path.abspath(filepath))
    os.makedirs(directory, exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        prefix='.tmp-', suffix=os.path.basename(filepath), dir=directory)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp_path, filepath)
    except BaseException:
        if os.path.exists(tmp_path):
            os.remove(tmp_path)
        raise


def _atomic_local_backend() -> None:
    from mmengine.fileio.backends.local_backend import LocalBackend

    if getattr(LocalBackend.put, '_dynamicnet_patched', False):
        return

    def put(self, obj: bytes, filepath) -> None:
        atomic_write_bytes(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write_bytes(obj.encode(encoding), str(filepath))

    put._dynamicnet_patched = True
    put.__doc__ = LocalBackend.put.__doc__
    put_text.__doc__ = LocalBackend.put_text.__doc__
    LocalBackend.put = put
    LocalBackend.put_text = put_text


def _dynamicnet_installed_path(original):

    @functools.wraps(original)
    def get_installed_path(package: str) -> str:
        # Editable (PEP 660) installs put the dist-info in site-packages but the package in the
        # checkout; mmengine would look in site-packages/dynamicnet.
        if package == 'dynamicnet':
            return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        return original(package)

    get_installed_path._dynamicnet_patched = True
    return get_installed_path


def _register_installed_path() -> None:
    import mmengine.config.config as config_module

    if not getattr(config_module.get_installed_path, '_dynamicnet_patched', False):
        config_module.get_installed_path = _dynamicnet_installed_path(
            config_module.get_installed_path)

    original = config_module.Config._get_cfg_path
    if getattr(original, '_dynamicnet_patched', False):
        return

    def _get_cfg_path(cfg_path: str, filename: str):
        path, scope = original(cfg_path, filename)
        return path, (None if scope == 'dynamicnet' else scope)

    _get_cfg_path._dynamicnet_patched = True
    config_module.Config._get_cfg_path = staticmethod(_get_cfg_path)


def apply_compat_patches() -> None:
    """Apply every adjustment listed in the module docstring (idempotent)."""
    _register_config_package()
    _register_installed_path()
    _allow_checkpoint_globals()
    _history_buffer_by_name()
    _cpu_aware_dist_init()
    _atomic_local_backend()
