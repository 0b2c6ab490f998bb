# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline++ (cosine classifier) few-shot baseline (Chen et al., ICLR 2019) on CUB-200-2011:
# ResNet-18 pre-trained on the
# 100 base classes, then per episode a new head fitted on frozen support features;
# 5-way 1-shot, 15 queries per class, 600 seeded episodes, inductive.
_base_ = [
    './_base_/datasets/cub_fewshot.py', './_base_/models/resnet18_baselinepp.py',
    './_base_/schedules/adam_400e.py', './_base_/fewshot_runtime.py'
]
model = dict(head=dict(num_classes=100))
