# Copyright (c) dynamicnet contributors. All rights reserved.
# ISDA official CIFAR schedule for ResNet-32/110 (spec isda.md §6.1): SGD + Nesterov, momentum
# 0.9, lr 0.1, weight decay 1e-4, 160 epochs, lr x0.1 at epochs 80 and 120, batch 128.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[80, 120], gamma=0.1)
train_cfg = dict(by_epoch=True, max_epochs=160, val_interval=1)
val_cfg = dict()
test_cfg = dict()
auto_scale_lr = dict(base_batch_size=128)
