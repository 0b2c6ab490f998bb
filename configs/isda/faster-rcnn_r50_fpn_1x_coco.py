# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline twin of faster-rcnn_r50_fpn-isda_1x_coco.py: mmdet's Faster R-CNN R50-FPN 1x on COCO
# (8 GPUs x 2, 12 epochs). The torchvision ImageNet weights are not downloaded by default; pass
#   --cfg-options model.backbone.init_cfg.type=Pretrained \
#       model.backbone.init_cfg.checkpoint=torchvision://resnet50
# (or the ISDA ImageNet ResNet-50, which is how the paper gets +0.6 box AP, spec isda.md §8.6).
_base_ = ['mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py']
model = dict(backbone=dict(init_cfg=None))
