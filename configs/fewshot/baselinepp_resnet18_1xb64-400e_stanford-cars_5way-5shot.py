# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline++ (cosine classifier) on Stanford Cars: 5-way 5-shot, inductive.
_base_ = ['./baselinepp_resnet18_1xb64-400e_stanford-cars_5way-1shot.py']
val_dataloader = dict(dataset=dict(k_shot=5))
test_dataloader = dict(dataset=dict(k_shot=5))
