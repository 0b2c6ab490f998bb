# Copyright (c) dynamicnet contributors. All rights reserved.
"""InfoPro under DDP (gloo, 2 CPU processes): gradients are the mean over ranks, once per step."""
import copy
import os
import socket

import pytest
import torch
import torch.distributed as torch_dist
import torch.multiprocessing as mp

from test_infopro import _batch, _build, _cfg  # noqa: E402  (same test folder)

CFG = _cfg(20, [[1, 2], [2, 1]], (1.0, 0.5, 0.5, 1.0))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _worker(rank: int, port: int, out_dir: str) -> None:
    from mmengine.optim import OptimWrapper
    from mmengine.registry import init_default_scope

    import dynamicnet.models  # noqa: F401
    from dynamicnet.models.utils.infopro_wrapper import InfoProDistributedDataParallel

    torch.set_num_threads(1)
    torch_dist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                                  world_size=2)
    init_default_scope('mmpretrain')
    model = _build(CFG)
    ddp = InfoProDistributedDataParallel(module=model, device_ids=None)
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1.0))
    ddp.train_step(_batch(8, seed=rank), wrapper)
    torch.save({k: v for k, v in model.state_dict().items() if 'running' not in k
                and 'num_batches' not in k}, os.path.join(out_dir, f'rank{rank}.pth'))
    torch_dist.destroy_process_group()


@pytest.mark.slow  # two spawned processes: ~40 s on 2 shared cores
def test_ddp_all_reduces_local_gradients_once(tmp_path, default_scope):
    mp.spawn(_worker, args=(_free_port(), str(tmp_path)), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f'rank{r}.pth', weights_only=True) for r in range(2)]
    # independent reference: the mean of each rank's gradient of the isolated losses
    default_scope('mmpretrain')
    start = _build(CFG)
    grads = []
    for rank in range(2):
        model = copy.deepcopy(start)
        data = model.data_preprocessor(_batch(8, seed=rank), True)
        sum(model.loss(data['inputs'], data['data_samples']).values()).backward()
        grads.append({n: p.grad for n, p in model.named_parameters()})
    for name, p in start.named_parameters():
        g = [grads[r][name] for r in range(2)]
        expected = p.detach() - (g[0] + g[1]) / 2 if g[0] is not None else p.detach()
        for r in range(2):
            torch.testing.assert_close(ranks[r][name], expected, atol=1e-5, rtol=1e-4, msg=name)
