# Copyright (c) dynamicnet contributors. All rights reserved.
"""On a CUDA machine: compare every dispatched point op on CUDA with dynamicnet's CPU version,
then train the tiny VoteNet + Pointformer for a few iterations on CUDA; print a PASS/FAIL table.

    python tools/misc/gpu_check_point_ops.py [--mmcv-src DIR] [--iters 5] [--skip-train]

What the CUDA column runs:

* ``mmcv`` when the installed ``mmcv._ext`` has CUDA kernels (what the dispatcher uses);
* otherwise dynamicnet's PyTorch ops on CUDA tensors (the dispatcher's fallback), and the
  table says so;
* ``--mmcv-src DIR`` (a directory holding ``mmcv/ops/csrc`` of mmcv 2.1.0, e.g. the unpacked
  source distribution) additionally JIT-compiles mmcv's own CUDA launchers and kernels for these
  ops with ``torch.utils.cpp_extension`` and compares them too: a check against mmcv's kernel code
  on machines without a CUDA build of mmcv.

Indices must match exactly; floating outputs within 1e-5. The training check needs mmdet3d and
a CUDA build of mmcv (mmdet3d's VoteHead and FP modules run the dispatcher, other mmcv ops such as
NMS need mmcv's CUDA kernels); it is reported as SKIP otherwise. Exit status 1 if anything fails.
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
from typing import Callable, Dict, List, Optional, Tuple

import torch

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from dynamicnet import ops  # noqa: E402
from dynamicnet.ops import torch_point_ops as tops  # noqa: E402

_LAUNCHERS = ('furthest_point_sample', 'ball_query', 'group_points', 'gather_points', 'three_nn',
              'three_interpolate', 'points_in_boxes')
_BINDINGS = r'''
#include <torch/extension.h>
using at::Tensor;
void FurthestPointSamplingForwardCUDAKernelLauncher(int b, int n, int m, const float* dataset,
                                                    float* temp, int* idxs);
void FurthestPointSamplingWithDistForwardCUDAKernelLauncher(int b, int n, int m,
                                                            const float* dataset, float* temp,
                                                            int* idxs);
void BallQueryForwardCUDAKernelLauncher(int b, int n, int m, float min_radius, float max_radius,
                                        int nsample, const Tensor new_xyz, const Tensor xyz,
                                        Tensor idx);
void GroupPointsForwardCUDAKernelLauncher(int b, int c, int n, int npoints, int nsample,
                                          const Tensor points, const Tensor idx, Tensor out);
void GatherPointsForwardCUDAKernelLauncher(int b, int c, int n, int npoints,
                                           const Tensor points, const Tensor idx, Tensor out);
void ThreeNNForwardCUDAKernelLauncher(int b, int n, int m, const Tensor unknown,
                                      const Tensor known, Tensor dist2, Tensor idx);
void ThreeInterpolateForwardCUDAKernelLauncher(int b, int c, int m, int n, const Tensor points,
                                               const Tensor idx, const Tensor weight, Tensor out);
void PointsInBoxesPartForwardCUDAKernelLauncher(int batch_size, int boxes_num, int pts_num,
                                                const Tensor boxes, const Tensor pts,
                                                Tensor box_idx_of_points);
void PointsInBoxesAllForwardCUDAKernelLauncher(int batch_size, int boxes_num, int pts_num,
                                               const Tensor boxes, const Tensor pts,
                                               Tensor box_idx_of_points);

Tensor fps(Tensor xyz, int64_t m) {
  auto b = xyz.size(0), n = xyz.size(1);
  auto idx = torch::zeros({b, m}, xyz.options().dtype(torch::kInt));
  auto temp = torch::full({b, n}, 1e10, xyz.options());
  FurthestPointSamplingForwardCUDAKernelLauncher(b, n, m, xyz.data_ptr<float>(),
                                                 temp.data_ptr<float>(), idx.data_ptr<int>());
  return idx;
}
Tensor fps_dist(Tensor dist, int64_t m) {
  auto b = dist.size(0), n = dist.size(1);
  auto idx = torch::zeros({b, m}, dist.options().dtype(torch::kInt));
  auto temp = torch::full({b, n}, 1e10, dist.options());
  FurthestPointSamplingWithDistForwardCUDAKernelLauncher(b, n, m, dist.data_ptr<float>(),
                                                         temp.data_ptr<float>(),
                                                         idx.data_ptr<int>());
  return idx;
}
Tensor ball_query(double min_r, double max_r, int64_t k, Tensor xyz, Tensor centres) {
  auto idx = torch::zeros({xyz.size(0), centres.size(1), k}, xyz.options().dtype(torch::kInt));
  BallQueryForwardCUDAKernelLauncher(xyz.size(0), xyz.size(1), centres.size(1), min_r, max_r, k,
                                     centres, xyz, idx);
  return idx;
}
Tensor group(Tensor feats, Tensor idx) {
  auto out = torch::zeros({feats.size(0), feats.size(1), idx.size(1), idx.size(2)},
                          feats.options());
  GroupPointsForwardCUDAKernelLauncher(feats.size(0), feats.size(1), feats.size(2), idx.size(1),
                                       idx.size(2), feats, idx, out);
  return out;
}
Tensor gather(Tensor feats, Tensor idx) {
  auto out = torch::zeros({feats.size(0), feats.size(1), idx.size(1)}, feats.options());
  GatherPointsForwardCUDAKernelLauncher(feats.size(0), feats.size(1), feats.size(2), idx.size(1),
                                        feats, idx, out);
  return out;
}
std::vector<Tensor> three_nn(Tensor target, Tensor source) {
  auto dist2 = torch::empty({target.size(0), target.size(1), 3}, target.options());
  auto idx = torch::empty({target.size(0), target.size(1), 3},
                          target.options().dtype(torch::kInt));
  ThreeNNForwardCUDAKernelLauncher(target.size(0), target.size(1), source.size(1), target,
                                   source, dist2, idx);
  return {torch::sqrt(dist2), idx};
}
Tensor three_interpolate(Tensor feats, Tensor idx, Tensor weight) {
  auto out = torch::empty({feats.size(0), feats.size(1), idx.size(1)}, feats.options());
  ThreeInterpolateForwardCUDAKernelLauncher(feats.size(0), feats.size(1), feats.size(2),
                                            idx.size(1), feats, idx, weight, out);
  return out;
}
Tensor points_in_boxes_all(Tensor pts, Tensor boxes) {
  auto out = torch::zeros({pts.size(0), pts.size(1), boxes.size(1)},
                          pts.options().dtype(torch::kInt));
  PointsInBoxesAllForwardCUDAKernelLauncher(pts.size(0), boxes.size(1), pts.size(1), boxes, pts,
                                            out);
  return out;
}
Tensor points_in_boxes_part(Tensor pts, Tensor boxes) {
  auto out = torch::full({pts.size(0), pts.size(1)}, -1, pts.options().dtype(torch::kInt));
  PointsInBoxesPartForwardCUDAKernelLauncher(pts.size(0), boxes.size(1), pts.size(1), boxes, pts,
                                             out);
  return out;
}
PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("furthest_point_sample", &fps);
  m.def("furthest_point_sample_with_dist", &fps_dist);
  m.def("ball_query", &ball_query);
  m.def("grouping_operation", &group);
  m.def("gather_points", &gather);
  m.def("three_nn", &three_nn);
  m.def("three_interpolate", &three_interpolate);
  m.def("points_in_boxes_all", &points_in_boxes_all);
  m.def("points_in_boxes_part", &points_in_boxes_part);
}
'''


def build_mmcv_kernels(src: str):
    """JIT-compile mmcv's CUDA launchers of the point ops from an mmcv source tree."""
    from torch.utils.cpp_extension import load

    csrc = osp.join(src, 'mmcv', 'ops', 'csrc')
    if not osp.isdir(csrc):
        raise FileNotFoundError(f'--mmcv-src: {csrc!r} does not exist (expected the unpacked '
                                'mmcv 2.1.0 source distribution)')
    build = tempfile.mkdtemp(prefix='mmcv_point_ops_')
    binding = osp.join(build, 'bindings.cpp')
    with open(binding, 'w') as f:
        f.write(_BINDINGS)
    sources = [binding] + [osp.join(csrc, 'pytorch', 'cuda', f'{name}_cuda.cu')
                           for name in _LAUNCHERS]
    includes = [osp.join(csrc, 'common'), osp.join(csrc, 'common', 'cuda')]
    return load('mmcv_point_ops_jit', sources, extra_include_paths=includes,
                extra_cflags=['-O2', '-DMMCV_WITH_CUDA'],
                extra_cuda_cflags=['-O2', '-DMMCV_WITH_CUDA'], build_directory=build,
                verbose=False)


def _inputs(seed: int = 0) -> Dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    xyz = torch.rand(2, 8000, 3, generator=gen) * torch.tensor([6.0, 6.0, 2.5])
    centres = xyz[:, :512].contiguous()
    boxes = torch.cat([torch.rand(2, 12, 3, generator=gen) * 5,
                       0.3 + torch.rand(2, 12, 3, generator=gen) * 1.5,
                       (torch.rand(2, 12, 1, generator=gen) - 0.5) * 6], -1)
    feats = torch.randn(2, 16, 8000, generator=gen)
    source = xyz[:, ::16].contiguous()
    return dict(xyz=xyz, centres=centres, boxes=boxes, feats=feats, source=source,
                src_feats=torch.randn(2, 16, source.shape[1], generator=gen),
                weight=torch.rand(2, 8000, 3, generator=gen),
                idx=torch.randint(0, 8000, (2, 512, 16), generator=gen, dtype=torch.int32),
                dist=torch.cdist(xyz[:, :1500], xyz[:, :1500]).pow(2).contiguous())


def _cases(x: Dict[str, torch.Tensor]) -> List[Tuple[str, Callable, tuple]]:
    """(op name, CPU reference function, arguments)."""
    nn_idx = tops.three_nn_torch(x['xyz'], x['source'])[1]
    return [
        ('furthest_point_sample', tops.furthest_point_sample_torch, (x['xyz'], 1024)),
        ('furthest_point_sample_with_dist', tops.furthest_point_sample_with_dist_torch,
         (x['dist'], 256)),
        ('ball_query', tops.ball_query_torch, (0.0, 0.2, 32, x['xyz'], x['centres'])),
        ('ball_query(min_radius)', tops.ball_query_torch,
         (0.1, 0.4, 16, x['xyz'], x['centres'])),
        ('grouping_operation', tops.grouping_operation_torch, (x['feats'], x['idx'])),
        ('gather_points', tops.gather_points_torch, (x['feats'], x['idx'][..., 0].contiguous())),
        ('three_nn', tops.three_nn_torch, (x['xyz'], x['source'])),
        ('three_interpolate', tops.three_interpolate_torch, (x['src_feats'], nn_idx,
                                                             x['weight'])),
        ('points_in_boxes_all', tops.points_in_boxes_all_torch, (x['xyz'], x['boxes'])),
        ('points_in_boxes_part', tops.points_in_boxes_part_torch, (x['xyz'], x['boxes'])),
    ]


def _compare(ref, out) -> Tuple[bool, str]:
    refs = ref if isinstance(ref, (tuple, list)) else (ref, )
    outs = out if isinstance(out, (tuple, list)) else (out, )
    notes = []
    ok = True
    for r, o in zip(refs, outs):
        o = o.cpu()
        if r.dtype.is_floating_point:
            finite = torch.isfinite(r)
            same_inf = torch.equal(finite, torch.isfinite(o))
            diff = (r[finite] - o[finite]).abs().max().item() if finite.any() else 0.0
            ok &= same_inf and diff <= 1e-5 * max(1.0, r[finite].abs().max().item())
            notes.append(f'max|diff| {diff:.1e}')
        else:
            bad = (r.to(o.dtype) != o).sum().item()
            ok &= bad == 0
            notes.append(f'{bad} index mismatches')
    return ok, ', '.join(notes)


def _to(args: tuple, device: str) -> tuple:
    return tuple(a.to(device) if isinstance(a, torch.Tensor) else a for a in args)


def check_ops(jit=None) -> List[Tuple[str, str, bool, str]]:
    rows = []
    backend = ('mmcv CUDA kernels' if ops.mmcv_cuda_ops_available() else
               'dynamicnet PyTorch ops on CUDA (mmcv._ext has no CUDA kernels)')
    for name, reference, args in _cases(_inputs()):
        op = name.split('(')[0]
        ref = reference(*args)
        rows.append((name, backend, *_compare(ref, getattr(ops, op)(*_to(args, 'cuda')))))
        if jit is not None:
            jit_args = _to(args, 'cuda')
            if op == 'ball_query':
                jit_args = (float(args[0]), float(args[1]), *jit_args[2:])
            rows.append((name, 'mmcv kernels (JIT from --mmcv-src)',
                         *_compare(ref, getattr(jit, op)(*jit_args))))
    # Gradients (mmcv's backward kernels are scatter-adds; autograd of gather is the reference).
    x = _inputs(1)
    for name, fn, args in [
        ('grouping_operation backward', ops.grouping_operation, (x['feats'], x['idx'])),
        ('three_interpolate backward', ops.three_interpolate,
         (x['src_feats'], tops.three_nn_torch(x['xyz'], x['source'])[1], x['weight'])),
    ]:
        grads = []
        for device in ('cpu', 'cuda'):
            feats = args[0].detach().to(device).clone().requires_grad_()
            out = fn(feats, *_to(args[1:], device))
            out.backward(torch.ones_like(out))
            grads.append(feats.grad)
        rows.append((name, backend, *_compare(grads[0], grads[1])))
    return rows


def check_training(iters: int) -> Tuple[str, str, Optional[bool], str]:
    name = 'tiny VoteNet+Pointformer training'
    try:
        import mmdet3d  # noqa: F401
    except ImportError:
        return name, 'CUDA', None, 'SKIP: mmdet3d is not installed'
    if not ops.mmcv_cuda_ops_available():
        return name, 'CUDA', None, 'SKIP: mmcv._ext has no CUDA kernels (NMS etc. need them)'
    from mmengine.config import Config
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from dynamicnet.datasets.tiny import make_tiny_dataset

    class LossRecorder(Hook):

        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            losses.append(float(outputs['loss']))

    losses: List[float] = []

    with tempfile.TemporaryDirectory() as tmp:
        root = make_tiny_dataset('scannet', osp.join(tmp, 'scannet'))
        cfg = Config.fromfile('configs/pointformer/votenet_pointformer_1xb4-tiny_scannet-3d.py')
        cfg.work_dir = osp.join(tmp, 'work')
        cfg.train_dataloader.dataset.dataset.data_root = root + os.sep
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters, val_interval=iters + 1)
        cfg.param_scheduler = []
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
        cfg.test_cfg = cfg.test_dataloader = cfg.test_evaluator = None
        cfg.default_hooks.logger.interval = 1
        runner = Runner.from_cfg(cfg)
        runner.register_hook(LossRecorder(), priority='LOWEST')
        runner.train()
        device = next(runner.model.parameters()).device
    ok = device.type == 'cuda' and len(losses) == iters and all(
        torch.isfinite(torch.tensor(losses)))
    return name, 'CUDA', ok, f'device {device}, losses {[round(v, 2) for v in losses]}'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--mmcv-src', help='mmcv 2.1.0 source tree to JIT-compile kernels from')
    parser.add_argument('--iters', type=int, default=5, help='training iterations on CUDA')
    parser.add_argument('--skip-train', action='store_true', help='only compare the ops')
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print('FAIL: no CUDA device; this check needs one.')
        return 1
    print(f'torch {torch.__version__}, {torch.cuda.get_device_name()}, mmcv CUDA kernels: '
          f'{ops.mmcv_cuda_ops_available()}')
    jit = build_mmcv_kernels(args.mmcv_src) if args.mmcv_src else None
    rows = check_ops(jit)
    if not args.skip_train:
        rows.append(check_training(args.iters))
    width = max(len(r[0]) for r in rows) + 2
    print(f'{"check":<{width}}{"CUDA side":<64}{"result":<7}details')
    failed = False
    for name, backend, ok, note in rows:
        verdict = 'SKIP' if ok is None else 'PASS' if ok else 'FAIL'
        failed |= ok is False
        print(f'{name:<{width}}{backend:<64}{verdict:<7}{note}')
    print('FAIL' if failed else 'PASS')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
