# Copyright (c) dynamicnet contributors. All rights reserved.
# CAM-loss (L_ce + alpha * L_cam) on CIFAR-100 with the recipe of resnet18_8xb16_cifar100.py. Every
# choice the paper does not fix for us is the spec's documented default (camloss.md §4): target-
# class CAM, min-max normalisation over the flattened 4x4 map, L1 distance, alpha = 1 from the first
# epoch, classifier detached in the CAM, CAM not detached, no ReLU on the CAM, constant maps
# skipped.
_base_ = ['./resnet18_8xb16_cifar100.py']
model = dict(
    head=dict(
        cam_cfg=dict(
            alpha=1.0,
            alpha_schedule='constant',
            warmup_epochs=0,
            cam_class='gt',
            normalize='minmax',
            distance='l1',
            eps=1e-6,
            detach_classifier=True,
            detach_cam=False,
            relu_cam=False,
            skip_constant_maps=True)))
