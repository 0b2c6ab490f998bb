# Copyright (c) dynamicnet contributors. All rights reserved.
"""CAAM-CAM distillation (camloss.md §7, invariant 8): the teacher's CAM is resized to the
student's map, the teacher gets no gradient, the student's classifier none from the KD term."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.structures import DataSample

from dynamicnet.models.classifiers import CAAMCAMDistiller
from dynamicnet.models.losses import CAMLoss, class_activation_map


def _classifier(strides, head_type='LinearClsHead', neck=True):
    return dict(
        type='ImageClassifier',
        backbone=dict(type='dynamicnet.CIFARResNet', depth=20, strides=strides),
        neck=dict(type='GlobalAveragePooling') if neck else None,
        head=dict(type=head_type, num_classes=3, in_channels=64))


def test_kd_term_routing_and_resize(default_scope):
    default_scope('mmpretrain')
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match='untrained'):
        model = CAAMCAMDistiller(
            backbone=dict(type='dynamicnet.CIFARResNet', depth=20, strides=(1, 1, 2)),
            head=dict(type='dynamicnet.CAMLossClsHead', num_classes=3, in_channels=64,
                      cam_cfg=dict(alpha=0.0)),
            teacher=_classifier((1, 2, 2)),
            beta=2.0)
    model.train()
    assert not model.teacher.training
    inputs = torch.randn(2, 3, 32, 32)
    samples = [DataSample().set_gt_label(1), DataSample().set_gt_label(2)]
    losses = model.loss(inputs, samples)
    assert set(losses) == {'loss', 'loss_kd_cam'}
    # Recompute the term: teacher CAM 8x8 -> student 16x16 bilinear, min-max, L1, times beta.
    with torch.no_grad():
        tmap = model.teacher.backbone(inputs)[-1]
        smap = model.backbone(inputs)[-1]
    assert tmap.shape[-2:] == (8, 8) and smap.shape[-2:] == (16, 16)
    cam = class_activation_map(tmap, model.teacher.head.fc.weight[torch.tensor([1, 2])])
    cam = F.interpolate(cam[:, None], size=(16, 16), mode='bilinear', align_corners=False)[:, 0]
    expected = 2.0 * CAMLoss().matching_term(smap, cam)
    torch.testing.assert_close(losses['loss_kd_cam'].detach(), expected)
    losses['loss_kd_cam'].backward()
    assert model.head.fc.weight.grad is None
    assert all(p.grad is None for p in model.teacher.parameters())
    assert model.backbone.conv1.weight.grad.abs().sum() > 0


def test_teacher_checkpoint_and_bad_teacher(tmp_path, default_scope):
    default_scope('mmpretrain')
    from mmpretrain.registry import MODELS
    teacher = MODELS.build(_classifier((1, 2, 2)))
    torch.save({'state_dict': teacher.state_dict()}, tmp_path / 'teacher.pth')
    model = CAAMCAMDistiller(
        backbone=dict(type='dynamicnet.CIFARResNet', depth=20),
        head=dict(type='dynamicnet.CAMLossClsHead', num_classes=3, in_channels=64),
        teacher=_classifier((1, 2, 2)), teacher_ckpt=str(tmp_path / 'teacher.pth'))
    model.init_weights()                                # must not re-initialise the teacher
    for key, value in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[key], value)
    with pytest.raises(TypeError, match='linear classifier'):
        CAAMCAMDistiller(
            backbone=dict(type='dynamicnet.CIFARResNet', depth=20),
            head=dict(type='dynamicnet.CAMLossClsHead', num_classes=3, in_channels=64),
            teacher=dict(_classifier((1, 2, 2)), head=dict(type='ClsHead')),
            teacher_ckpt=str(tmp_path / 'teacher.pth'))
