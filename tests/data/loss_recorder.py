# Copyright (c) dynamicnet contributors. All rights reserved.
"""Test helper: record the rank-averaged training loss of every iteration (distributed tests).

Used as ``type='loss_recorder.LossRecorderHook'`` with ``tests/data`` on ``PYTHONPATH``: mmengine
resolves a dotted path that no registry holds by importing it.
"""
import json
import os

from mmengine.dist import all_reduce, get_rank
from mmengine.hooks import Hook


class LossRecorderHook(Hook):
    """Appends the global mean loss of each iteration to ``<work_dir>/losses.json`` on rank 0."""

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
        loss = outputs['loss'].detach().clone().float().reshape(1)
        all_reduce(loss, op='mean')
        if get_rank() == 0:
            path = os.path.join(runner.work_dir, 'losses.json')
            history = json.load(open(path)) if os.path.exists(path) else []
            history.append(float(loss.item()))
            with open(path, 'w') as f:
                json.dump(history, f)
