# Copyright (c) dynamicnet contributors. All rights reserved.
# VoteNet with the Pointformer backbone, ScanNet settings of the official code
# (Vladimir2506/Pointformer `configs/pointformer/votenet_ptr_scannet-3d-18class.py`,
# ../shared/specs/pointformer.md §2, §8). Shared by the full and the tiny ScanNet configs.
_base_ = ['mmdet3d::_base_/models/votenet.py']

# mmdet3d's VoteNet imports mmcv's CUDA-only point ops by name; this switch rebinds them to
# dynamicnet.ops (mmcv's kernels for CUDA tensors, PyTorch on CPU).
custom_imports = dict(imports=['dynamicnet.ops.mmdet3d_dispatch'], allow_failed_imports=False)

model = dict(
    backbone=dict(
        _delete_=True,
        type='dynamicnet.Pointformer',
        in_channels=4,  # xyz + height
        num_points=(2048, 1024, 512, 256),
        radius=(0.2, 0.4, 0.8, 1.2),
        num_samples=(64, 32, 16, 16),
        basic_channels=64,
        fp_channels=((256, 256), (256, 256)),
        num_heads=8,
        num_layers=2,
        ffn_ratio=2,
        local_drop=0.0,
        global_drop=0.2,
        prenorm=True,
        use_decoder=False,  # Local-Global Transformer: off in the released configs
        coord_refine=False),  # coordinate refinement: never released, [unconfirmed]
    bbox_head=dict(
        num_classes=18,
        bbox_coder=dict(
            type='PartialBinBasedBBoxCoder',
            num_sizes=18,
            num_dir_bins=24,  # as the official config (mmdet3d's VoteNet-ScanNet uses 1)
            with_rot=False,
            mean_sizes=[[0.76966727, 0.8116021, 0.92573744], [1.876858, 1.8425595, 1.1931566],
                        [0.61328, 0.6148609, 0.7182701], [1.3955007, 1.5121545, 0.83443564],
                        [0.97949594, 1.0675149, 0.6329687], [0.531663, 0.5955577, 1.7500148],
                        [0.9624706, 0.72462326, 1.1481868], [0.83221924, 1.0490936, 1.6875663],
                        [0.21132214, 0.4206159, 0.5372846], [1.4440073, 1.8970833, 0.26985747],
                        [1.0294262, 1.4040797, 0.87554324], [1.3766412, 0.65521795, 1.6813129],
                        [0.6650819, 0.71111923, 1.298853], [0.41999173, 0.37906948, 1.7513971],
                        [0.59359556, 0.5912492, 0.73919016], [0.50867593, 0.50656086, 0.30136237],
                        [1.1511526, 1.0546296, 0.49706793], [0.47535285, 0.49249494, 0.5802117]])))
