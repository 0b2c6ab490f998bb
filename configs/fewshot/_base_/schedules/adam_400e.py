# Copyright (c) dynamicnet contributors. All rights reserved.
# Base-class pre-training: Adam, lr 1e-3, 400 epochs, no decay [unconfirmed: recollection of
# Chen et al., ICLR 2019 (400 epochs for CUB, 600 for mini-ImageNet)]. Episodic validation on
# the validation classes every 50 epochs.
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
train_cfg = dict(by_epoch=True, max_epochs=400, val_interval=50)
