# Copyright (c) dynamicnet contributors. All rights reserved.
# MSDNet, CIFAR-100 anytime setting of the official README: --nBlocks 7 --stepmode even --step 2
# --base 4 --nChannels 16 --growthRate 6 --grFactor 1-2-4 --bnFactor 1-2-4, trained on all
# 50,000 training images (no --use-valid). Same recipe as the budgeted config otherwise. Its
# budgeted curve (dynamic_eval.py) fits thresholds on 5,000 training images the model has seen
# (the GFNet/DVT protocol), which the fit_set label records.
_base_ = ['./msdnet-b5-lingrow_1xb64_cifar100.py']

model = dict(backbone=dict(num_blocks=7, step_mode='even', step=2, base=4))
train_dataloader = dict(dataset=dict(_delete_=True, **_base_.cifar100_train))
test_evaluator = dict(fit_set='5000 seen training images, test pipeline')
