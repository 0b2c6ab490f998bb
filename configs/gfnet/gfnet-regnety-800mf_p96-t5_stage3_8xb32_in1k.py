# Copyright (c) dynamicnet contributors. All rights reserved.
# GFNet stage 3 (fine-tuning with patches sampled from the frozen stage-2 policy; f_C lr 0.01).
_base_ = ['./gfnet-regnety-800mf_p96-t5_stage1_8xb32_in1k.py']

model = dict(training_stage=3)
load_from = 'work_dirs/gfnet-regnety-800mf_p96-t5_stage2_8xb32_in1k/epoch_15.pth'
optim_wrapper = dict(paramwise_cfg=dict(custom_keys={'classifier': dict(lr_mult=0.5)}))
