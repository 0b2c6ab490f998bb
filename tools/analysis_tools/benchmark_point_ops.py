# Copyright (c) dynamicnet contributors. All rights reserved.
"""CPU times of dynamicnet's point ops and of a VoteNet + Pointformer forward, each beside a
straightforward PyTorch reference measured in the same run.

    python tools/analysis_tools/benchmark_point_ops.py [--repeat 3] [--threads N]

Measured (issue 3, item 6):

* furthest point sampling, 40,000 -> 2,048 points (reference: the textbook loop,
  ``min(dist, ((xyz - xyz[last])**2).sum(-1))`` then ``argmax``);
* ball query, 2,048 centres, radius 0.2, 64 samples in the same cloud (reference: dense
  distances to all points, chunked over centres, first 64 hits by ``topk`` over indices);
* one VoteNet + Pointformer forward (``test_step``: backbone, VoteHead, NMS) on 20,000 points
  of a synthetic room with the SUN RGB-D config (the dataset whose scenes have 20,000 points),
  once with dynamicnet's ops and once with the reference FPS and ball query patched in.

Each time is the median of ``--repeat`` runs. The last line reports the ratios
reference / dynamicnet. Targets on the project's 2-core machine: FPS <= 0.3 s, forward <= 3 s.
"""
import argparse
import contextlib
import os.path as osp
import statistics
import sys
import tempfile
import time
from typing import Callable, Iterator, List

import numpy as np
import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from dynamicnet import ops  # noqa: E402
from dynamicnet.ops import point_ops  # noqa: E402

CONFIG = 'configs/pointformer/votenet_pointformer_8xb5_sunrgbd-3d.py'


def reference_fps(points_xyz: torch.Tensor, num_points: int) -> torch.Tensor:
    """Textbook furthest point sampling from index 0."""
    batch, num = points_xyz.shape[:2]
    batch_idx = torch.arange(batch)
    min_dist = torch.full((batch, num), 1e10)
    last = torch.zeros(batch, dtype=torch.long)
    out = [last]
    for _ in range(1, num_points):
        dist = ((points_xyz - points_xyz[batch_idx, last].unsqueeze(1))**2).sum(-1)
        min_dist = torch.minimum(min_dist, dist)
        last = min_dist.argmax(1)
        out.append(last)
    return torch.stack(out, 1).int()


def reference_ball_query(min_radius: float, max_radius: float, sample_num: int,
                         xyz: torch.Tensor, center_xyz: torch.Tensor, *unused) -> torch.Tensor:
    """Dense distances to every point, first ``sample_num`` hits by index, padded."""
    num = xyz.shape[1]
    out = []
    for centres in center_xyz.split(256, dim=1):
        dist = ((centres.unsqueeze(2) - xyz.unsqueeze(1))**2).sum(-1)
        hit = (dist == 0) | ((dist >= min_radius**2) & (dist < max_radius**2))
        key = torch.where(hit, torch.arange(num), num)
        first = key.topk(sample_num, dim=-1, largest=False, sorted=True).values
        first = torch.where(first < num, first, first[..., :1])
        out.append(torch.where(first < num, first, 0))
    return torch.cat(out, 1).int()


class _ReferenceOps:
    """Namespace of the reference ops (the other ops are shared; they are cheap)."""
    furthest_point_sample = staticmethod(reference_fps)
    ball_query = staticmethod(reference_ball_query)

    def __getattr__(self, name: str):
        return getattr(point_ops, name)


def _time(fn: Callable, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _scene(num_points: int) -> torch.Tensor:
    """A tiny-ScanNet room sampled to ``num_points`` (xyz + height), like VoteNet's pipeline."""
    from dynamicnet.datasets.tiny import make_tiny_dataset

    with tempfile.TemporaryDirectory() as tmp:
        root = make_tiny_dataset('scannet', osp.join(tmp, 'scannet'))
        cloud = np.fromfile(osp.join(root, 'points', 'scene0000_00.bin'),
                            dtype=np.float32).reshape(-1, 6)[:, :3]
    rng = np.random.default_rng(0)
    cloud = cloud[rng.choice(len(cloud), num_points, replace=len(cloud) < num_points)]
    height = cloud[:, 2:3] - np.percentile(cloud[:, 2], 0.99)
    return torch.from_numpy(np.concatenate([cloud, height], 1))


@contextlib.contextmanager
def _reference_ops_in_model() -> Iterator[None]:
    from dynamicnet.models.backbones import pointformer
    from dynamicnet.ops import mmdet3d_dispatch

    saved = {name: getattr(pointformer, name) for name in ('furthest_point_sample', 'ball_query')}
    pointformer.furthest_point_sample = reference_fps
    pointformer.ball_query = reference_ball_query
    mmdet3d_dispatch.enable(_ReferenceOps())
    try:
        yield
    finally:
        for name, fn in saved.items():
            setattr(pointformer, name, fn)
        mmdet3d_dispatch.enable()


def _forward_fn(num_points: int) -> Callable:
    from mmdet3d.structures import Box3DMode, Det3DDataSample, DepthInstance3DBoxes
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from dynamicnet.registry import MODELS

    cfg = Config.fromfile(CONFIG)
    init_default_scope(cfg.default_scope)
    model = MODELS.build(cfg.model).eval()
    sample = Det3DDataSample(
        metainfo=dict(box_type_3d=DepthInstance3DBoxes, box_mode_3d=Box3DMode.DEPTH))
    data = dict(inputs=dict(points=[_scene(num_points)]), data_samples=[sample])

    def forward():
        with torch.no_grad():
            model.test_step(data)

    return forward


def main(argv: List[str] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeat', type=int, default=3, help='runs per measurement (median)')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f'torch {torch.__version__}, {torch.get_num_threads()} CPU threads, '
          f'median of {args.repeat} runs')

    cloud = _scene(40000)[None, :, :3].contiguous()
    fps_idx = ops.furthest_point_sample(cloud, 2048)
    centres = cloud[:, fps_idx[0].long()].contiguous()
    ball = ops.ball_query(0.0, 0.2, 64, cloud, centres)
    same_fps = torch.equal(fps_idx, reference_fps(cloud, 2048))
    same_ball = torch.equal(ball, reference_ball_query(0.0, 0.2, 64, cloud, centres))
    print(f'identical to the reference: FPS {same_fps}, ball query {same_ball}')

    rows = [
        ('FPS 40,000 -> 2,048 points', lambda: ops.furthest_point_sample(cloud, 2048),
         lambda: reference_fps(cloud, 2048)),
        ('ball query 2,048 x 64, r=0.2, 40,000 points',
         lambda: ops.ball_query(0.0, 0.2, 64, cloud, centres),
         lambda: reference_ball_query(0.0, 0.2, 64, cloud, centres)),
    ]
    forward = _forward_fn(20000)
    forward()  # warm-up (allocator, lazy imports)

    def forward_reference():
        with _reference_ops_in_model():
            forward()

    rows.append(('VoteNet+Pointformer forward, 20,000 points', forward, forward_reference))

    print(f'{"measurement":<46}{"dynamicnet":>12}{"reference":>12}{"ratio":>8}')
    results = []
    for name, ours, reference in rows:
        t_ours, t_ref = _time(ours, args.repeat), _time(reference, args.repeat)
        results.append((name, t_ours, t_ref))
        print(f'{name:<46}{t_ours:>10.3f} s{t_ref:>10.3f} s{t_ref / t_ours:>7.1f}x')
    fps, ball, fwd = results
    verdict = (f'FPS {fps[1]:.3f} s ({"meets" if fps[1] <= 0.3 else "misses"} <= 0.3 s), '
               f'forward {fwd[1]:.3f} s ({"meets" if fwd[1] <= 3.0 else "misses"} <= 3 s)')
    print(verdict)
    print(f'ratios reference/dynamicnet: FPS {fps[2] / fps[1]:.1f}x, ball query '
          f'{ball[2] / ball[1]:.1f}x, forward {fwd[2] / fwd[1]:.1f}x')


if __name__ == '__main__':
    main()
