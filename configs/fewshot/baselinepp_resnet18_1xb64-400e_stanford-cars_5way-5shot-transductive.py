# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline++ (cosine classifier) on Stanford Cars: 5-way 5-shot, transductive: the per-episode head
# also minimises the prediction
# entropy of the unlabelled queries (Dhillon et al., ICLR 2020).
_base_ = ['./baselinepp_resnet18_1xb64-400e_stanford-cars_5way-5shot.py']
val_cfg = dict(setting='transductive')
test_cfg = dict(setting='transductive')
