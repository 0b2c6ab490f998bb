# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT + Baseline++ on the tiny few-shot data: 5-way 5-shot, inductive.
_base_ = ['./fot-baselinepp_resnet18-tiny_1xb16-6e_tiny-fewshot_5way-1shot.py']
val_dataloader = dict(dataset=dict(k_shot=5))
test_dataloader = dict(dataset=dict(k_shot=5))
