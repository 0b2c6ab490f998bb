# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 3 (fine-tuning): as stage 1 but the patches come from the frozen stage-2 policy
# with its exploration noise kept (sampled actions), and f_C starts at lr 0.01 (lr_mult 1).
# Starts from the stage-2 checkpoint. Test/inference uses the deterministic policy (a = mu).
_base_ = ['./gfnet-r50_p96-t5_stage1_8xb32_in1k.py']

model = dict(training_stage=3)
load_from = 'work_dirs/gfnet-r50_p96-t5_stage2_8xb32_in1k/epoch_15.pth'
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'classifier': dict(lr_mult=1.0)}))
