# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT + Baseline++ on Stanford Dogs: 5-way 5-shot, inductive.
_base_ = ['./fot-baselinepp_resnet18_1xb64-400e_stanford-dogs_5way-1shot.py']
val_dataloader = dict(dataset=dict(k_shot=5))
test_dataloader = dict(dataset=dict(k_shot=5))
