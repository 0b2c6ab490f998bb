# Copyright (c) dynamicnet contributors. All rights reserved.
"""tools/dist_train.sh on CPU: 2 processes (gloo) reproduce 1 process with the same global batch.

The model uses GroupNorm, so a sample's loss does not depend on which samples share its
batch; DDP averages gradients over equal per-process batches, which equals the single-process
mean. The remaining difference is float summation order (all-reduce vs one batch), which SGD
with momentum amplifies over the epoch: measured up to 1.2e-3 relative after 18 iterations, so
the stated tolerance is 5e-3 relative.
"""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_cls_gn.py')


def _run(cmd, work_dir, port=None):
    env = dict(os.environ, PYTHON=sys.executable, OMP_NUM_THREADS='1',
               PYTHONPATH=os.pathsep.join([osp.join(ROOT, 'tests', 'data'),
                                           os.environ.get('PYTHONPATH', '')]))
    if port is not None:
        env['PORT'] = str(port)
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.load(open(osp.join(work_dir, 'losses.json'))), proc.stdout + proc.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU (gloo) path')
def test_two_processes_match_one(tmp_path, tiny_data_root):
    data_root = tiny_data_root('imagenet')
    config = tmp_path / 'with_loss_recorder.py'
    config.write_text(f"_base_ = [{CONFIG!r}]\n"
                      "custom_hooks = [dict(type='loss_recorder.LossRecorderHook')]\n")
    common = [
        f'train_dataloader.dataset.data_root={data_root}', 'train_cfg.max_epochs=1',
        'val_cfg=None', 'val_dataloader=None', 'val_evaluator=None',
        'default_hooks.checkpoint.interval=100'
    ]
    one_dir, two_dir = tmp_path / 'one', tmp_path / 'two'
    one, _ = _run([sys.executable, 'tools/train.py', str(config), '--work-dir', str(one_dir),
                   '--cfg-options', 'train_dataloader.batch_size=8', *common], one_dir)
    two, log = _run(['bash', 'tools/dist_train.sh', str(config), '2', '--work-dir', str(two_dir),
                     '--cfg-options', 'train_dataloader.batch_size=4', *common],
                    two_dir, port=29517)
    assert 'gloo' in log or 'Distributed training is not used' not in log
    assert len(one) == len(two) >= 3
    torch.testing.assert_close(torch.tensor(two), torch.tensor(one), rtol=5e-3, atol=1e-4)
    assert one[-1] < one[0]
