# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline twin of resnet20-isda_1xb16-4e_tiny-imagenet.py (plain cross-entropy).
_base_ = ['./resnet20-isda_1xb16-4e_tiny-imagenet.py']
model = dict(head=dict(_delete_=True, type='LinearClsHead', num_classes=6, in_channels=64,
                       loss=dict(type='CrossEntropyLoss', loss_weight=1.0), topk=(1, 5)))
