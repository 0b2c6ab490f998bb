# Copyright (c) dynamicnet contributors. All rights reserved.
# Short name of VoteNet + Pointformer on ScanNet (the full 8xb2 recipe).
_base_ = ['./votenet_pointformer_8xb2_scannet-3d.py']
