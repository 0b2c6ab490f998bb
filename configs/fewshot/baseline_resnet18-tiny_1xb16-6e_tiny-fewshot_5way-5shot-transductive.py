# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline on the tiny few-shot data: 5-way 5-shot, transductive: the per-episode head also
# minimises the prediction
# entropy of the unlabelled queries (Dhillon et al., ICLR 2020).
_base_ = ['./baseline_resnet18-tiny_1xb16-6e_tiny-fewshot_5way-5shot.py']
val_cfg = dict(setting='transductive')
test_cfg = dict(setting='transductive')
