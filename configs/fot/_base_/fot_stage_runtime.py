# Copyright (c) dynamicnet contributors. All rights reserved.
# Runtime of the FOT stage configs (extractor / generator training on base classes only): Adam
# lr 1e-3, mmpretrain's runtime, no validation or test loop. A leaf inherits a few-shot dataset
# base for fot_base_train and nulls that base's data preprocessor (the FOT networks scale
# images to [0, 1] themselves) and its episodic loaders.
_base_ = ['mmpretrain::_base_/default_runtime.py', './fot_networks.py']
optim_wrapper = dict(optimizer=dict(type='Adam', lr=1e-3))
val_cfg = None
val_evaluator = None
test_cfg = None
test_evaluator = None
