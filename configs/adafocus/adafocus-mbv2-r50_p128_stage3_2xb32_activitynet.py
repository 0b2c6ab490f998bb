# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus stage 3, P = 128: fine-tune with the trained policy acting deterministically (argmax).
# stage3_trainable=('cls_head', ) is the released code (optimizer holds only f_C, fc lr 0.005);
# the paper's "f_L and f_C" is --cfg-options "model.stage3_trainable=[cls_head,local_backbone]"
# (backbone lr then 0.005 x 0.1 [unconfirmed]). 10 epochs, cosine.
# Test: mAP of the last frame's prediction, and AdaFocus+ (temporal early exit): per-frame mAP
# (and top-1) against cumulative GFLOPs and the budgeted mAP curve, thresholds fitted on 10% of the
# training videos (seen in training) with the test pipeline (AdaFocus+ itself is unreleased; its
# rule is [unconfirmed], dynamicnet uses the shared MSDNet finder of dynamic-inference.md §4).
_base_ = ['./adafocus-mbv2-r50_p128_stage1_2xb32_activitynet.py']

model = dict(training_stage=3, stage3_trainable=('cls_head', ))
load_from = 'work_dirs/adafocus-mbv2-r50_p128_stage2_1xb64_activitynet/epoch_50.pth'
optim_wrapper = dict(
    _delete_=True,
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=1e-4),
    paramwise_cfg=dict(custom_keys={'local_backbone': dict(lr_mult=0.1)}))
param_scheduler = dict(
    type='CosineAnnealingLR', by_epoch=True, T_max=10, convert_to_iter_based=False)
train_cfg = dict(by_epoch=True, max_epochs=10, val_interval=1)

fit_dataloader = dict(
    batch_size=32,
    num_workers=8,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='dynamicnet.HoldoutSplit',
        dataset=dict(
            type='dynamicnet.RawframeDataset',
            data_root='data/activitynet/',
            ann_file='train_list_rawframes.txt',
            data_prefix=dict(img='rawframes'),
            filename_tmpl='image_{:05d}.jpg',
            pipeline={{_base_.test_pipeline}},
            test_mode=True),
        num_holdout=0.1,
        split='holdout',
        seed=0))
test_evaluator = [
    dict(type='AveragePrecision'),
    # AdaFocus+ on ActivityNet: mAP (and top-1) per frame exit and along the budgeted curve
    dict(
        type='dynamicnet.EarlyExitMetric',
        mean_ap=True,
        fit_set='ActivityNet train 10% (seen), test pipeline'),
]
test_cfg = dict(type='dynamicnet.EarlyExitTestLoop', fit_dataloader=fit_dataloader)
