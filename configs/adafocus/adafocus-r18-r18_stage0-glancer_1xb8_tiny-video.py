# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny AdaFocus stage 0, part 1: the glancer alone on full frames (mean of per-frame logits).
_base_ = ['./adafocus-r18-r18_p32_stage1_1xb8_tiny-video.py']

model = dict(training_stage=0, init_target='global')
val_evaluator = [dict(type='Accuracy', topk=(1, ))]
test_evaluator = val_evaluator
optim_wrapper = dict(
    _delete_=True, optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(T_max=8)
train_cfg = dict(max_epochs=8, val_interval=8)
default_hooks = dict(checkpoint=dict(interval=8))
load_from = None
