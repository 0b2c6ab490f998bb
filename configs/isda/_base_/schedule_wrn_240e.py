# Copyright (c) dynamicnet contributors. All rights reserved.
# ISDA official CIFAR schedule for WRN (spec isda.md §6.1): SGD + Nesterov, momentum 0.9, lr 0.1,
# weight decay 5e-4, 240 epochs, lr x0.2 at epochs 60, 120, 160, 200, batch 128.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4))
param_scheduler = dict(
    type='MultiStepLR', by_epoch=True, milestones=[60, 120, 160, 200], gamma=0.2)
train_cfg = dict(by_epoch=True, max_epochs=240, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
