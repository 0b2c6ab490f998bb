# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus stage 0 part 1 (glancer initialisation) on Mini-Kinetics
# (200 Kinetics classes, AR-Net splits) as mmaction2 rawframe lists
# ('<video dir> <num frames> <label>', frames img_00001.jpg ...); metric top-1.
# Schedule and model as the ActivityNet config.
_base_ = ['./adafocus-mbv2-r50_stage0-glancer_2xb32_activitynet.py']

data_root = 'data/mini-kinetics/'
filename_tmpl = 'img_{:05}.jpg'
model = dict(num_classes=200)
train_dataloader = dict(dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl))
val_dataloader = dict(dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='Accuracy', topk=(1, 5))
test_evaluator = val_evaluator
