# Copyright (c) dynamicnet contributors. All rights reserved.
"""CAMLossClsHead: CE + alpha * L_cam, and alpha = 0 is the CE head bit-exactly."""
import pytest
import torch
import torch.nn.functional as F
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.structures import DataSample

from dynamicnet.models.heads import CAMLossClsHead
from dynamicnet.models.losses import CAMLoss


def _samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def test_cam_head_loss_terms():
    torch.manual_seed(0)
    head = CAMLossClsHead(num_classes=4, in_channels=6, cam_cfg=dict(alpha=2.0))
    fmap = torch.rand(5, 6, 4, 4, requires_grad=True)
    labels = torch.tensor([0, 1, 2, 3, 1])
    losses = head.loss((fmap, ), _samples(labels))
    logits = head.fc(fmap.mean(dim=(2, 3)))
    torch.testing.assert_close(losses['loss'], F.cross_entropy(logits, labels))
    torch.testing.assert_close(losses['loss_cam'],
                               CAMLoss(alpha=2.0)(fmap, head.fc.weight, labels))
    head.fc.weight.grad = None
    losses['loss_cam'].backward()
    assert head.fc.weight.grad is None                         # W learns from CE only
    with pytest.raises(ValueError, match='neck=None'):
        head.loss((fmap.mean(dim=(2, 3)), ), _samples(labels))


def test_alpha_zero_is_the_ce_head():
    torch.manual_seed(1)
    head = CAMLossClsHead(num_classes=4, in_channels=6, cam_cfg=dict(alpha=0.0))
    plain = LinearClsHead(num_classes=4, in_channels=6)
    plain.load_state_dict(head.state_dict())
    fmap = torch.rand(5, 6, 4, 4)
    labels = torch.tensor([0, 1, 2, 3, 1])
    losses = head.loss((fmap, ), _samples(labels))
    assert set(losses) == {'loss'}
    expected = plain.loss((fmap.mean(dim=(2, 3)), ), _samples(labels))['loss']
    assert torch.equal(losses['loss'], expected)
