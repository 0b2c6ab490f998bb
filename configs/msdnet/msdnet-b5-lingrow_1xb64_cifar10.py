# Copyright (c) dynamicnet contributors. All rights reserved.
# MSDNet budgeted setting on CIFAR-10 (the official code's --data cifar10: same architecture and
# recipe as CIFAR-100, 10-way exits, 5,000 held-out training images for the thresholds).
_base_ = ['./msdnet-b5-lingrow_1xb64_cifar100.py']

data_preprocessor = dict(
    num_classes=10, mean=[125.307, 122.961, 113.8575], std=[51.5865, 50.847, 51.255])
model = dict(exit_head=dict(num_classes=10))
train_dataloader = dict(dataset=dict(dataset=dict(type='CIFAR10', data_root='data/cifar10')))
fit_dataloader = dict(dataset=dict(dataset=dict(type='CIFAR10', data_root='data/cifar10')))
val_dataloader = dict(dataset=dict(type='CIFAR10', data_root='data/cifar10'))
test_dataloader = dict(dataset=dict(type='CIFAR10', data_root='data/cifar10'))
test_cfg = dict(fit_dataloader=fit_dataloader)
