# Copyright (c) dynamicnet contributors. All rights reserved.
"""The run-time adjustments of dynamicnet.utils.compat."""
import os

import numpy as np
import pytest
import torch
from mmengine.fileio.backends.local_backend import LocalBackend
from mmengine.logging.history_buffer import HistoryBuffer

from dynamicnet.utils.compat import atomic_write_bytes


def test_checkpoint_with_message_hub_loads_with_weights_only(tmp_path):
    buffer = HistoryBuffer()
    buffer.update(np.float64(0.5))
    path = tmp_path / 'ckpt.pth'
    torch.save({'message_hub': {'log_scalars': {'train/loss': buffer}},
                'meta': {'np': np.arange(3), 'f': np.float32(1.5)}}, path)
    loaded = torch.load(path, weights_only=True)
    restored = loaded['message_hub']['log_scalars']['train/loss']
    assert restored.current() == 0.5
    assert restored.statistics('mean') == 0.5
    np.testing.assert_array_equal(loaded['meta']['np'], np.arange(3))


def test_arbitrary_objects_stay_blocked(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'obj': os.getcwd}, path)  # an arbitrary callable: never allow-listed
    with pytest.raises(Exception, match='Weights only load failed'):
        torch.load(path, weights_only=True)


def test_local_backend_writes_atomically(tmp_path, monkeypatch):
    target = tmp_path / 'epoch_1.pth'
    LocalBackend().put(b'old', target)
    assert target.read_bytes() == b'old'

    def crash(fd):
        raise OSError('disk full')

    monkeypatch.setattr(os, 'fsync', crash)
    with pytest.raises(OSError, match='disk full'):
        LocalBackend().put(b'new-but-truncated', target)
    assert target.read_bytes() == b'old'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['epoch_1.pth']


def test_atomic_write_text(tmp_path):
    LocalBackend().put_text('a/b.pth', tmp_path / 'last_checkpoint')
    assert (tmp_path / 'last_checkpoint').read_text() == 'a/b.pth'
    atomic_write_bytes(b'x', str(tmp_path / 'sub' / 'f'))
    assert (tmp_path / 'sub' / 'f').read_bytes() == b'x'
