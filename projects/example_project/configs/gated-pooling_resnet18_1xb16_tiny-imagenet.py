# A downstream config: the data pipeline is inherited from dynamicnet through `dynamicnet::`
# (works from any installed dynamicnet, regular or editable), the runtime from mmpretrain, and the
# neck is the project's own component.
_base_ = [
    'dynamicnet::_base_/datasets/tiny_imagenet.py',
    'mmpretrain::_base_/schedules/imagenet_bs256.py',
    'mmpretrain::_base_/default_runtime.py',
]
custom_imports = dict(imports=['example_project'], allow_failed_imports=False)

model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='ResNet_CIFAR', depth=18, stem_channels=16, base_channels=16, init_cfg=None),
    neck=dict(type='dynamicnet.GatedAveragePooling', in_channels=128),
    head=dict(
        type='LinearClsHead',
        num_classes=6,
        in_channels=128,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        topk=(1, 5)))

train_cfg = dict(by_epoch=True, max_epochs=2, val_interval=1)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = dict(type='MultiStepLR', by_epoch=True, milestones=[1], gamma=0.1)
