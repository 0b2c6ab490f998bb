# Copyright (c) dynamicnet contributors. All rights reserved.
# Student of the CAAM-CAM distillation pair on CIFAR-100 (spec camloss.md §3.4, formulation
# [unconfirmed]): a CIFAR ResNet-18 whose CAAM is supervised by the frozen ResNet-50 teacher's
# ground-truth-class CAM (bilinearly resized from 4x4 to 4x4 = no-op here; min-max, L1, beta = 1),
# plus its own cross-entropy; no logit KD and no own L_cam by default. The teacher is built from
# resnet50_8xb16_cifar100_teacher.py; pass its checkpoint with
#   --cfg-options model.teacher_ckpt=work_dirs/resnet50_8xb16_cifar100_teacher/epoch_200.pth
_base_ = ['./resnet18_8xb16_cifar100.py']
model = dict(
    type='dynamicnet.CAAMCAMDistiller',
    teacher='{{fileDirname}}/resnet50_8xb16_cifar100_teacher.py',
    teacher_ckpt=None,
    beta=1.0,
    teacher_resize='bilinear',
    logit_kd_weight=0.0,
    kd_temperature=4.0,
    match_cfg=dict(normalize='minmax', distance='l1', eps=1e-6, relu_cam=False,
                   skip_constant_maps=True))
