# Copyright (c) dynamicnet contributors. All rights reserved.
"""Build mmcv 2.1.0's point-op CUDA kernels from its source distribution, unchanged, as a small
JIT extension, for checking dynamicnet's point ops on GPU machines where a full mmcv CUDA build
(58 CUDA units, ~7 minutes on 16 cores) does not fit.

Only the binding is ours: each function allocates outputs exactly as ``mmcv/ops/*.py`` does and
calls the kernel launcher compiled from ``mmcv/ops/csrc/pytorch/cuda/*_cuda.cu``.

    kernels = load_mmcv_point_kernels('/path/to/mmcv-2.1.0')   # the unpacked sdist
    idx = kernels.furthest_point_sample(xyz_cuda, 512)
"""
import os.path as osp
import tarfile
import tempfile
from types import SimpleNamespace

import torch

_SOURCES = ('furthest_point_sample_cuda.cu', 'ball_query_cuda.cu', 'group_points_cuda.cu',
            'gather_points_cuda.cu', 'three_nn_cuda.cu', 'three_interpolate_cuda.cu',
            'points_in_boxes_cuda.cu')

_BINDING = r'''
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
void GatherPointsForwardCUDAKernelLauncher(int b, int c, int n, int npoints, const Tensor points,
                                           const Tensor idx, Tensor out);
void ThreeNNForwardCUDAKernelLauncher(int b, int n, int m, const Tensor unknown,
                                      const Tensor known, Tensor dist2, Tensor idx);
void ThreeInterpolateForwardCUDAKernelLauncher(int b, int c, int m, int n, const Tensor points,
                                               const Tensor idx, const Tensor weight, Tensor out);
void PointsInBoxesAllForwardCUDAKernelLauncher(int batch_size, int boxes_num, int pts_num,
                                               const Tensor boxes, const Tensor pts,
                                               Tensor box_idx_of_points);
void PointsInBoxesPartForwardCUDAKernelLauncher(int batch_size, int boxes_num, int pts_num,
                                                const Tensor boxes, const Tensor pts,
                                                Tensor box_idx_of_points);

Tensor fps(Tensor xyz, int64_t m) {
  int b = xyz.size(0), n = xyz.size(1);
  auto idx = torch::zeros({b, m}, xyz.options().dtype(torch::kInt32));
  auto temp = torch::full({b, n}, 1e10, xyz.options());
  FurthestPointSamplingForwardCUDAKernelLauncher(b, n, m, xyz.data_ptr<float>(),
                                                 temp.data_ptr<float>(), idx.data_ptr<int>());
  return idx;
}
Tensor fps_with_dist(Tensor dist, int64_t m) {
  int b = dist.size(0), n = dist.size(1);
  auto idx = torch::zeros({b, m}, dist.options().dtype(torch::kInt32));
  auto temp = torch::full({b, n}, 1e10, dist.options());
  FurthestPointSamplingWithDistForwardCUDAKernelLauncher(
      b, n, m, dist.data_ptr<float>(), temp.data_ptr<float>(), idx.data_ptr<int>());
  return idx;
}
Tensor ball_query(double min_r, double max_r, int64_t nsample, Tensor xyz, Tensor center) {
  int b = center.size(0), m = center.size(1), n = xyz.size(1);
  auto idx = torch::zeros({b, m, nsample}, xyz.options().dtype(torch::kInt32));
  BallQueryForwardCUDAKernelLauncher(b, n, m, min_r, max_r, nsample, center, xyz, idx);
  return idx;
}
Tensor group_points(Tensor features, Tensor idx) {
  int b = features.size(0), c = features.size(1), n = features.size(2);
  int npoints = idx.size(1), nsample = idx.size(2);
  auto out = torch::zeros({b, c, npoints, nsample}, features.options());
  GroupPointsForwardCUDAKernelLauncher(b, c, n, npoints, nsample, features, idx, out);
  return out;
}
Tensor gather_points(Tensor features, Tensor idx) {
  int b = features.size(0), c = features.size(1), n = features.size(2), m = idx.size(1);
  auto out = torch::zeros({b, c, m}, features.options());
  GatherPointsForwardCUDAKernelLauncher(b, c, n, m, features, idx, out);
  return out;
}
std::vector<Tensor> three_nn(Tensor target, Tensor source) {
  int b = target.size(0), n = target.size(1), m = source.size(1);
  auto dist2 = torch::zeros({b, n, 3}, target.options());
  auto idx = torch::zeros({b, n, 3}, target.options().dtype(torch::kInt32));
  ThreeNNForwardCUDAKernelLauncher(b, n, m, target, source, dist2, idx);
  return {torch::sqrt(dist2), idx};
}
Tensor three_interpolate(Tensor features, Tensor idx, Tensor weight) {
  int b = features.size(0), c = features.size(1), m = features.size(2), n = idx.size(1);
  auto out = torch::zeros({b, c, n}, features.options());
  ThreeInterpolateForwardCUDAKernelLauncher(b, c, m, n, features, idx, weight, out);
  return out;
}
Tensor points_in_boxes_all(Tensor points, Tensor boxes) {
  int b = boxes.size(0), nb = boxes.size(1), np_ = points.size(1);
  auto out = torch::zeros({b, np_, nb}, points.options().dtype(torch::kInt32));
  PointsInBoxesAllForwardCUDAKernelLauncher(b, nb, np_, boxes, points, out);
  return out;
}
Tensor points_in_boxes_part(Tensor points, Tensor boxes) {
  int b = boxes.size(0), nb = boxes.size(1), np_ = points.size(1);
  auto out = torch::full({b, np_}, -1, points.options().dtype(torch::kInt32));
  PointsInBoxesPartForwardCUDAKernelLauncher(b, nb, np_, boxes, points, out);
  return out;
}
PYBIND11_MODULE(TORCH_EXTENSION_NAME, m) {
  m.def("furthest_point_sample", &fps);
  m.def("furthest_point_sample_with_dist", &fps_with_dist);
  m.def("ball_query", &ball_query);
  m.def("grouping_operation", &group_points);
  m.def("gather_points", &gather_points);
  m.def("three_nn", &three_nn);
  m.def("three_interpolate", &three_interpolate);
  m.def("points_in_boxes_all", &points_in_boxes_all);
  m.def("points_in_boxes_part", &points_in_boxes_part);
}
'''


def _source_root(mmcv_src: str) -> str:
    if mmcv_src.endswith('.tar.gz'):
        out = tempfile.mkdtemp(prefix='mmcv-src-')
        with tarfile.open(mmcv_src) as tar:
            tar.extractall(out)
        mmcv_src = osp.join(out, 'mmcv-2.1.0')
    csrc = osp.join(mmcv_src, 'mmcv', 'ops', 'csrc')
    if not osp.isdir(csrc):
        raise FileNotFoundError(f'{mmcv_src!r} is not an unpacked mmcv source tree '
                                '(mmcv/ops/csrc missing).')
    return csrc


def load_mmcv_point_kernels(mmcv_src: str, verbose: bool = False) -> SimpleNamespace:
    """Compile (cached by torch in ``TORCH_EXTENSIONS_DIR``) and return the kernels.

    Returned functions take and return tensors in mmcv's layouts: ``furthest_point_sample(xyz
    (B, N, 3), m) -> (B, m) int32``; ``ball_query(min_r, max_r, k, xyz, center) -> (B, M, k)``;
    ``grouping_operation(features (B, C, N), idx (B, M, k)) -> (B, C, M, k)``;
    ``gather_points(features (B, C, N), idx (B, M)) -> (B, C, M)``; ``three_nn(target (B, n, 3),
    source (B, m, 3)) -> (dist (B, n, 3), idx)``; ``three_interpolate(features (B, C, m), idx,
    weight (B, n, 3)) -> (B, C, n)``; ``points_in_boxes_all/part(points (B, N, 3), boxes (B, T,
    7))``.
    """
    from torch.utils.cpp_extension import load

    if not torch.cuda.is_available():
        raise RuntimeError('load_mmcv_point_kernels needs CUDA.')
    csrc = _source_root(mmcv_src)
    build = tempfile.mkdtemp(prefix='mmcv-point-kernels-')
    binding = osp.join(build, 'binding.cpp')
    with open(binding, 'w') as f:
        f.write(_BINDING)
    sources = [binding] + [osp.join(csrc, 'pytorch', 'cuda', name) for name in _SOURCES]
    module = load(
        name='mmcv_point_kernels',
        sources=sources,
        extra_include_paths=[osp.join(csrc, 'common'), osp.join(csrc, 'common', 'cuda')],
        extra_cflags=['-O2', '-DMMCV_WITH_CUDA'],
        extra_cuda_cflags=['-O2', '-DMMCV_WITH_CUDA'],
        build_directory=build,
        verbose=verbose)
    return SimpleNamespace(**{name: getattr(module, name) for name in dir(module)
                              if not name.startswith('_')})


if __name__ == '__main__':
    import sys
    kernels = load_mmcv_point_kernels(sys.argv[1], verbose=True)
    print('built:', sorted(vars(kernels)))
