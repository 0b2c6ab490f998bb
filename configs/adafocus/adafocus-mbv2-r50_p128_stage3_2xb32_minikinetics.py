# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus stage 3, P = 128 (AdaFocus+ test) on Mini-Kinetics
# (200 Kinetics classes, AR-Net splits) as mmaction2 rawframe lists
# ('<video dir> <num frames> <label>', frames img_00001.jpg ...); metric top-1.
# Schedule and model as the ActivityNet config.
_base_ = ['./adafocus-mbv2-r50_p128_stage3_2xb32_activitynet.py']

data_root = 'data/mini-kinetics/'
filename_tmpl = 'img_{:05}.jpg'
model = dict(num_classes=200)
train_dataloader = dict(dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl))
val_dataloader = dict(dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl))
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type='Accuracy', topk=(1, 5))
fit_dataloader = dict(
    dataset=dict(dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl)))
test_evaluator = [
    dict(type='Accuracy', topk=(1, 5)),
    dict(
        type='dynamicnet.EarlyExitMetric',
        fit_set='Mini-Kinetics train 10% (seen), test pipeline'),
]
test_cfg = dict(fit_dataloader=fit_dataloader)
load_from = 'work_dirs/adafocus-mbv2-r50_p128_stage2_1xb64_minikinetics/epoch_50.pth'
