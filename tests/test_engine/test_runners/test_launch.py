# Copyright (c) dynamicnet contributors. All rights reserved.
"""dynamicnet.engine.runners.launch: ending a distributed run."""
import torch.distributed as torch_dist

from dynamicnet.engine.runners import close_distributed


def test_close_distributed_destroys_the_process_group(tmp_path):
    close_distributed()                                 # not distributed: nothing to do
    torch_dist.init_process_group('gloo', init_method=f'file://{tmp_path / "rendezvous"}',
                                  rank=0, world_size=1)
    assert torch_dist.is_initialized()
    close_distributed()
    assert not torch_dist.is_initialized()
