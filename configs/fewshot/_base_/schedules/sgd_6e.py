# Copyright (c) dynamicnet contributors. All rights reserved.
# Short CPU pre-training for the tiny few-shot data (not a benchmark schedule): SGD, lr 0.05,
# momentum 0.9, weight decay 5e-4, 6 epochs, one episodic validation at the end.
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4))
train_cfg = dict(by_epoch=True, max_epochs=6, val_interval=6)
