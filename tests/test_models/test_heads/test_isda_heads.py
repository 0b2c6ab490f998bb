# Copyright (c) dynamicnet contributors. All rights reserved.
"""ISDA wired into the mmpretrain classification head, mmseg decode heads and the mmdet RoI box
head: each is checked against the loss computed by hand from the same tensors."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import PixelData
from mmpretrain.models.heads import LinearClsHead
from mmpretrain.structures import DataSample

from dynamicnet.models.heads import ISDALinearClsHead, ISDAShared2FCBBoxHead
from dynamicnet.models.losses.isda_reference import ReferenceISDAEstimator, reference_isda_aug


def _samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def test_cls_head_matches_official_loss_and_predicts_like_linear_head():
    torch.manual_seed(0)
    head = ISDALinearClsHead(
        num_classes=5, in_channels=8, cal_acc=True,
        isda_cfg=dict(lambda0=0.5, covariance='full', schedule='constant'))
    plain = LinearClsHead(num_classes=5, in_channels=8)
    plain.load_state_dict(head.state_dict(), strict=False)
    ref = ReferenceISDAEstimator(8, 5, 'full')
    for step in range(3):
        feats = torch.randn(16, 8) + step
        labels = torch.randint(0, 5, (16, ))
        losses = head.loss((feats, ), _samples(labels))
        logits = head.fc(feats)
        ref.update_CV(feats, labels)
        expected = F.cross_entropy(
            reference_isda_aug(head.fc.weight, feats, logits, labels, ref.CoVariance, 0.5),
            labels)
        torch.testing.assert_close(losses['loss'], expected, rtol=1e-5, atol=1e-6)
        assert 'accuracy_top-1' in losses
    feats = torch.randn(4, 8)
    for a, b in zip(head.predict((feats, )), plain.predict((feats, ))):
        assert torch.equal(a.pred_score, b.pred_score)
    mixed = _samples([0, 1])
    for sample in mixed:
        sample.set_gt_score(torch.full((5, ), 0.2))
    with pytest.raises(ValueError, match='hard labels'):
        head.loss((torch.randn(2, 8), ), mixed)


def test_seg_heads_augment_at_feature_resolution_with_ignore_bucket():
    pytest.importorskip('mmseg')
    from mmseg.models.decode_heads import ASPPHead
    from mmseg.structures import SegDataSample

    from dynamicnet.models.heads.isda_decode_heads import ISDAASPPHead, ISDAFCNHead
    torch.manual_seed(1)
    cfg = dict(in_channels=16, channels=8, dilations=(1, 2), num_classes=4, dropout_ratio=0.0)
    head = ISDAASPPHead(**cfg, isda_cfg=dict(lambda0=2.0, schedule='constant'))
    aux = ISDAFCNHead(in_channels=16, channels=8, num_convs=1, num_classes=4, dropout_ratio=0.0,
                      isda_cfg=dict(lambda0=2.0, schedule='constant'))
    assert head.isda.estimator is not aux.isda.estimator
    assert head.isda.estimator.cov.shape == (5, 8)            # 4 classes + ignore bucket
    inputs = [torch.randn(2, 16, 6, 10)]
    labels = torch.randint(0, 4, (2, 1, 24, 40))
    labels[:, :, :8] = 255
    samples = []
    for lab in labels:
        sample = SegDataSample()
        sample.gt_sem_seg = PixelData(data=lab)
        samples.append(sample)
    logits, aug = head.isda_logits(inputs, samples)
    assert aug.shape == logits.shape == (2, 4, 6, 10)
    small = labels[:, 0, ::4, ::4]                             # nearest 24x40 -> 6x10
    ignore = small == 255
    assert torch.equal(aug.permute(0, 2, 3, 1)[ignore], logits.permute(0, 2, 3, 1)[ignore])
    assert (aug.permute(0, 2, 3, 1)[~ignore] >= logits.permute(0, 2, 3, 1)[~ignore]).all()
    counts = head.isda.estimator.count
    assert counts[4] == ignore.sum() and counts[:4].sum() == (~ignore).sum()
    losses = head.loss(inputs, samples, {})
    assert torch.isfinite(losses['loss_ce']) and 'acc_seg' in losses
    plain = ASPPHead(**cfg)
    plain.load_state_dict(head.state_dict(), strict=False)
    assert torch.equal(plain.forward(inputs), head.forward(inputs))   # inference unchanged


def test_bbox_head_uses_fc_cls_input_and_rejects_bad_classifiers(default_scope):
    default_scope('mmdet')  # mmdet's BBoxHead builds its unprefixed bbox coder in this scope
    head = ISDAShared2FCBBoxHead(
        in_channels=4, fc_out_channels=16, roi_feat_size=3, num_classes=3,
        isda_cfg=dict(lambda0=1.0, schedule='constant'))
    head.train()
    rois_feats = torch.randn(6, 4, 3, 3)
    cls_score, _ = head(rois_feats)
    feats = head._cls_features
    assert feats.shape == (6, 16)
    torch.testing.assert_close(head.fc_cls(feats), cls_score)
    assert head.isda.estimator.cov.shape == (4, 16)           # 3 classes + background
    head.eval()
    head(rois_feats)
    assert head._cls_features is None
    with pytest.raises(ValueError, match='num_classes \\+ 1'):
        ISDAShared2FCBBoxHead(
            in_channels=4, fc_out_channels=16, roi_feat_size=3, num_classes=3,
            loss_cls=dict(type='CrossEntropyLoss', use_sigmoid=True, loss_weight=1.0))
    with pytest.raises(TypeError, match='linear classifier fc_cls'):
        ISDAShared2FCBBoxHead(in_channels=4, fc_out_channels=16, roi_feat_size=3,
                              num_classes=3, with_cls=False)
