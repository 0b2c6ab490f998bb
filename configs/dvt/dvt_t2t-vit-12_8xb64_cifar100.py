# Copyright (c) dynamicnet contributors. All rights reserved.
# DVT on T2T-ViT-12 fine-tuned on CIFAR-100 (paper Table 3); recipe as the CIFAR-10 config.
_base_ = ['./dvt_t2t-vit-12_8xb64_cifar10.py']

num_classes = 100
model = dict(head=dict(num_classes=num_classes))
data_preprocessor = dict(
    num_classes=num_classes, mean=[129.304, 124.070, 112.434], std=[68.170, 65.392, 70.418])
cifar_train = dict(type='CIFAR100', data_root='data/cifar100', split='train')
train_dataloader = dict(dataset=dict(dataset=cifar_train))
val_dataloader = dict(dataset=dict(type='CIFAR100', data_root='data/cifar100'))
test_dataloader = val_dataloader
fit_dataloader = dict(dataset=dict(dataset=cifar_train))
test_cfg = dict(fit_dataloader=dict(dataset=dict(dataset=cifar_train)))
test_evaluator = dict(fit_set='cifar100 train holdout 5000 (seed 0), test pipeline')
