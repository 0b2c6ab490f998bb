# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline++ (Chen et al., ICLR 2019) on mini-ImageNet: ResNet-18 pre-trained with a cosine
# classifier on the 64 base classes, then 600 seeded 5-way 1-shot episodes (15 queries per class)
# over the novel classes, a new cosine classifier fine-tuned per episode on frozen features;
# inductive.
_base_ = [
    './_base_/datasets/mini-imagenet_fewshot.py', './_base_/models/resnet18_baselinepp.py',
    './_base_/schedules/adam_400e.py', './_base_/fewshot_runtime.py'
]
model = dict(head=dict(num_classes=64))
