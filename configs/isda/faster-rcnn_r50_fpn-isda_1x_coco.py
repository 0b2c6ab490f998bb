# Copyright (c) dynamicnet contributors. All rights reserved.
# ISDA on the RoI classification branch of Faster R-CNN R50-FPN 1x (a dynamicnet extension, spec
# isda.md §7.1; the paper's +0.4 to +0.6 COCO box AP come from ISDA ImageNet pre-training, not from
# this head, and no gain is claimed for it). The features are the input of fc_cls (1024-d, after
# the two shared FCs), labels are the sampled RoIs' targets with the background as an ordinary
# class, diagonal covariance (81 x 1024), lambda = lambda0 * iter / max_iters with lambda0 = 0.5:
# an untuned starting point, the paper has no value for this use.
_base_ = ['./faster-rcnn_r50_fpn_1x_coco.py']
model = dict(
    roi_head=dict(
        bbox_head=dict(
            type='dynamicnet.ISDAShared2FCBBoxHead',
            background='class',
            isda_cfg=dict(lambda0=0.5, covariance='diagonal', schedule='iter'))))
