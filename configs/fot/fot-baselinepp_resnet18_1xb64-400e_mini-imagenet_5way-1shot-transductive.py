# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT + Baseline++ on mini-ImageNet: 5-way 1-shot, transductive: the per-episode head also minimises
# the prediction
# entropy of the unlabelled queries (Dhillon et al., ICLR 2020).
_base_ = ['./fot-baselinepp_resnet18_1xb64-400e_mini-imagenet_5way-1shot.py']
val_cfg = dict(setting='transductive')
test_cfg = dict(setting='transductive')
