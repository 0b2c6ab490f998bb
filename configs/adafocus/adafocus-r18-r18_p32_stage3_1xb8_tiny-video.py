# Copyright (c) dynamicnet contributors. All rights reserved.
# Tiny AdaFocus stage 3: the classifier on the argmax policy's patches (released code), then the
# AdaFocus+ test: per-frame accuracy vs cumulative MACs and the budgeted curve, thresholds fitted
# on a quarter of the training videos (seen in training) with the test pipeline.
_base_ = ['./adafocus-r18-r18_p32_stage1_1xb8_tiny-video.py']

model = dict(training_stage=3, stage3_trainable=('cls_head', ))
load_from = 'work_dirs/adafocus-r18-r18_p32_stage2_1xb8_tiny-video/epoch_5.pth'
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'local_backbone': dict(lr_mult=0.1)}))
param_scheduler = dict(T_max=5)
train_cfg = dict(max_epochs=5, val_interval=5)
fit_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='dynamicnet.HoldoutSplit',
        dataset=dict(
            type='dynamicnet.RawframeDataset',
            ann_file={{_base_.ann_file_train}},
            data_prefix=dict(img={{_base_.data_root}}),
            filename_tmpl='img_{:05}.jpg',
            pipeline={{_base_.test_pipeline}},
            test_mode=True),
        num_holdout=0.25,
        split='holdout',
        seed=0))
test_evaluator = [
    dict(type='Accuracy', topk=(1, )),
    dict(
        type='dynamicnet.EarlyExitMetric',
        mean_ap=True,
        fit_set='tiny train 25% (seen), test pipeline'),
]
test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit_dataloader)
