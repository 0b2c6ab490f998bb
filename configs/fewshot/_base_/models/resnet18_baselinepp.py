# Copyright (c) dynamicnet contributors. All rights reserved.
# Baseline++ (Chen et al., ICLR 2019): ResNet-18 pre-trained with a cosine classifier over the
# base classes (set num_classes to their number in the leaf config), then per episode a new cosine
# classifier fine-tuned on the frozen support features (fot.md §5 `finetune` default).
model = dict(
    type='ImageClassifier',
    backbone=dict(type='ResNet', depth=18, num_stages=4, out_indices=(3, ), style='pytorch'),
    neck=dict(type='GlobalAveragePooling'),
    head=dict(
        type='dynamicnet.CosineSimilarityClsHead',
        num_classes=100,
        in_channels=512,
        scale=10.0,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))
# Meta-test head; the other heads are dynamicnet.LinearFewShotHead (Baseline) and
# dynamicnet.PrototypeHead (nearest class mean), e.g. --cfg-options test_cfg.head.type=...
fewshot_head = dict(type='dynamicnet.CosineFewShotHead')
val_cfg = dict(type='dynamicnet.MetaTestLoop', head=fewshot_head, setting='inductive')
test_cfg = dict(val_cfg)
