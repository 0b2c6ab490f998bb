# Copyright (c) dynamicnet contributors. All rights reserved.
"""GFNet: patches, glance, encoders, policy, rewards, costs, stages, early exit (gfnet.md §9)."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample
from torch.utils.flop_counter import FlopCounterMode

from dynamicnet.models.classifiers.gfnet import (GFNet, GlanceFocusEncoder, crop_patches,
                                                 gfnet_rewards, glance_input)

SLIM = dict(backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=8,
                          out_indices=(3, )), map_channels=64)


@pytest.fixture(autouse=True)
def _scope(default_scope):
    init_default_scope('mmpretrain')


def _gfnet(stage=1, classifier=None, policy=None, num_steps=3, **kwargs):
    torch.manual_seed(0)
    return GFNet(global_encoder=SLIM, local_encoder=SLIM, num_classes=5, patch_size=32,
                 num_steps=num_steps,
                 classifier=classifier or dict(type='gru', hidden_dim=16),
                 policy=policy or dict(state_encoder='mlp', hidden_dim=16),
                 training_stage=stage, **kwargs)


def _samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


def test_crop_patches_corners_and_floor():
    x = torch.arange(2 * 3 * 10 * 12, dtype=torch.float32).view(2, 3, 10, 12)
    out = crop_patches(x, torch.tensor([[0.0, 0.0], [1.0, 1.0]]), 4)
    assert out.shape == (2, 3, 4, 4)
    assert torch.equal(out[0], x[0, :, :4, :4])
    assert torch.equal(out[1], x[1, :, 6:, 8:])
    a = torch.tensor([[0.5, 0.26], [0.99, 0.01]])
    out = crop_patches(x, a, 4)
    for b in range(2):
        r, c = int(a[b, 0] * 6), int(a[b, 1] * 8)  # floor(a (H - P)), row then column
        assert torch.equal(out[b], x[b, :, r:r + 4, c:c + 4])


def test_crop_patches_from_selected_rows_is_one_contiguous_gather():
    x = torch.randn(5, 3, 10, 12)
    a = torch.rand(5, 2)
    rows = torch.tensor([4, 1, 3])
    out = crop_patches(x, a[rows], 4, rows)
    assert out.is_contiguous()
    # same pixels as partitioning the images first
    assert torch.equal(out, crop_patches(x[rows], a[rows], 4))
    # the same for a channels-last batch (flat indices are logical, not memory, positions)
    assert torch.equal(crop_patches(x.contiguous(memory_format=torch.channels_last), a, 4),
                       crop_patches(x, a, 4))


def test_glance_bicubic_align_corners_keeps_corner_pixels():
    x = torch.rand(2, 3, 40, 40)
    g = glance_input(x, 12, 'bicubic')
    assert g.shape == (2, 3, 12, 12)
    for i, j in ((0, 0), (0, -1), (-1, 0), (-1, -1)):
        torch.testing.assert_close(g[..., i, j], x[..., i, j])


def test_encoder_shapes_resnet50_and_mobilenetv3():
    torch.manual_seed(0)
    r50 = GlanceFocusEncoder(
        backbone=dict(type='mmpretrain.ResNet', depth=50, out_indices=(3, )), map_channels=2048,
        num_classes=10).eval()
    pooled, fmap, logits = r50(torch.randn(2, 3, 96, 96))
    assert pooled.shape == (2, 2048) and fmap.shape == (2, 2048, 3, 3)
    assert not fmap.requires_grad and logits.shape == (2, 10)
    mbv3 = GlanceFocusEncoder(
        backbone=dict(type='mmpretrain.MobileNetV3', arch='large'), map_channels=960,
        num_classes=10, feature_proj=1280).eval()
    pooled, fmap, _ = mbv3(torch.randn(2, 3, 96, 96))
    assert pooled.shape == (2, 1280) and fmap.shape == (2, 960, 3, 3)


def test_policy_state_encoders_have_the_spec_sizes():
    model = _gfnet(policy=dict(state_encoder='mlp', hidden_dim=16))
    enc = model.policy.policy.state_encoder
    assert enc[1].in_features == 64 * 1 * 1 and enc[1].out_features == 2048
    assert enc[3].out_features == 16
    conv = _gfnet(policy=dict(state_encoder='conv', hidden_dim=16)).policy.policy.state_encoder
    assert conv[0].out_channels == 32 and conv[0].bias is None and conv[3].in_features == 32


def test_rewards_telescope():
    torch.manual_seed(0)
    logits = [torch.randn(4, 5) for _ in range(4)]
    labels = torch.tensor([0, 3, 2, 4])
    rewards = gfnet_rewards(logits, labels)
    assert rewards.shape == (3, 4)
    p = [F.softmax(x, 1)[torch.arange(4), labels] for x in logits]
    torch.testing.assert_close(rewards.sum(0), p[-1] - p[0])
    torch.testing.assert_close(rewards[1], p[2] - p[1])


def test_test_time_policy_is_deterministic_and_gru_resets():
    model = _gfnet().eval()
    x = torch.randn(3, 3, 64, 64)
    a = model(x, mode='tensor')
    b = model(x, mode='tensor')
    torch.testing.assert_close(a, b)  # deterministic policy, GRU reset per image batch
    state = model.init_state(x)
    _, state = model.forward_stage(0, state)
    fmap = state['map']
    _, state = model.forward_stage(1, state)
    ac = model.policy.policy
    feat = ac.state_encoder(fmap)
    out, _ = ac.gru(feat[None], torch.zeros(1, 3, 16))
    torch.testing.assert_close(state['action'], torch.sigmoid(ac.actor.fc(out[0])))


def test_exit_costs_follow_the_step_formula():
    model = _gfnet(num_steps=4).eval()
    costs = model.exit_costs((3, 64, 64))
    # independent counts with torch's FLOP counter (2 FLOPs per MAC)
    with FlopCounterMode(display=False) as c_enc:
        model.local_encoder(torch.zeros(1, 3, 32, 32))
    f_enc = c_enc.get_total_flops() // 2
    hidden, feat, classes = 16, 64, 5
    f_fc = 3 * (feat * hidden + hidden * hidden) + hidden * classes
    ac = model.policy.policy
    with FlopCounterMode(display=False) as c_pi:
        ac.state_encoder(torch.zeros(1, 64, 1, 1))
    f_pi = c_pi.get_total_flops() // 2 + 3 * (2 * hidden * hidden) + hidden * 2
    for k, cost in enumerate(costs, start=1):
        assert cost == k * (f_enc + f_fc) + (k - 1) * f_pi


def test_early_exit_extremes_and_partitioning():
    model = _gfnet().eval()
    x = torch.randn(6, 3, 64, 64)
    with torch.no_grad():
        probs = F.softmax(model(x, mode='tensor'), dim=2)
    scores, index = model.early_exit(x, [0.0, 0.0, 0.0])
    assert index.tolist() == [0] * 6
    torch.testing.assert_close(scores, probs[0])
    scores, index = model.early_exit(x, [1.01, 1.01, 1.01])
    assert index.tolist() == [2] * 6
    torch.testing.assert_close(scores, probs[2])
    conf = probs.max(2).values
    thr = [float(conf[0].median()), 0.0, 0.0]
    scores, index = model.early_exit(x, thr)
    expected = torch.where(conf[0] >= thr[0], 0, 1)
    assert index.tolist() == expected.tolist()
    torch.testing.assert_close(scores, probs[expected, torch.arange(6)])


def test_partitioning_keeps_the_image_batch_whole():
    model = _gfnet().eval()
    x = torch.randn(4, 3, 64, 64)
    with torch.no_grad():
        expected = model(x, mode='tensor')[1]
        state = model.init_state(x)
        _, state = model.forward_stage(0, state)
        keep = torch.tensor([3, 0])
        state = model.select_state(state, keep)
        assert state['image'] is x and state['rows'].tolist() == [3, 0]
        assert state['cls_hidden'].shape[0] == 2
        logits, _ = model.forward_stage(1, state)
    torch.testing.assert_close(logits, expected[keep])


def test_stage_freezing():
    stage2 = _gfnet(stage=2).train()
    trainable = {n.split('.')[0] + '.' + n.split('.')[1]
                 for n, p in stage2.named_parameters() if p.requires_grad}
    assert trainable == {'policy.policy'}
    assert not stage2.global_encoder.training and not stage2.classifier.training
    stage1 = _gfnet(stage=1, train_global=False).train()
    assert not stage1.global_encoder.training and stage1.local_encoder.training
    assert not any(p.requires_grad for p in stage1.global_encoder.parameters())
    assert not any(p.requires_grad for p in stage1.policy.parameters())
    assert all(p.requires_grad for p in stage1.local_encoder.parameters())


def test_stage_losses():
    x = torch.randn(4, 3, 64, 64)
    labels = torch.tensor([0, 1, 2, 3])
    stage1 = _gfnet(stage=1, dsn_weight=2.0).train()
    losses = stage1.loss(x, _samples(labels))
    assert sorted(losses) == ['loss_dsn0', 'loss_dsn1', 'loss_dsn2', 'loss_exit0', 'loss_exit1',
                              'loss_exit2']
    stage2 = _gfnet(stage=2).train()
    before = {k: v.clone() for k, v in stage2.local_encoder.state_dict().items()}
    out = stage2.loss(x, _samples(labels))
    assert set(out) == {'loss_actor', 'loss_value', 'loss_entropy', 'reward'}
    total = out['loss_actor'] + out['loss_value'] + out['loss_entropy']
    total.backward()
    assert all(p.grad is not None for p in stage2.policy.policy.actor.parameters())
    assert all(p.grad is None for p in stage2.local_encoder.parameters())
    assert all(torch.equal(before[k], v) for k, v in stage2.local_encoder.state_dict().items())
    assert len(stage2.memory) == 0
    cascade = _gfnet(stage=3, classifier=dict(type='cascade_linear'),
                     policy=dict(state_encoder='conv', hidden_dim=16)).train()
    losses = cascade.loss(x, _samples(labels))
    logits = cascade.eval()(x, mode='tensor')
    assert logits.shape == (3, 4, 5) and torch.isfinite(sum(losses.values()))


def test_stage1_and_stage2_train_steps_reduce_their_losses():
    """A few optimiser steps on one fixed batch: the supervised loss falls (stage 1) and PPO
    moves the policy towards higher return (stage 2)."""
    from mmengine.optim import OptimWrapper

    torch.manual_seed(0)
    x = torch.randn(8, 3, 64, 64) * 60 + 120  # raw pixels, the preprocessor normalises
    data = dict(inputs=list(x), data_samples=_samples(torch.arange(8) % 5))
    model = _gfnet(stage=1).train()
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9))
    losses = [float(sum(v for k, v in model.train_step(data, wrapper).items() if 'loss' in k))
              for _ in range(12)]
    assert sum(losses[-3:]) < 0.75 * sum(losses[:3])  # random patch locations: noisy
    stage2 = _gfnet(stage=2)
    stage2.load_state_dict(model.state_dict())
    stage2.train()
    wrapper = OptimWrapper(torch.optim.Adam(stage2.policy.parameters(), lr=3e-4))
    before = [p.clone() for p in stage2.policy.policy.parameters()]
    logs = [stage2.train_step(data, wrapper) for _ in range(3)]
    assert all(torch.isfinite(log['loss']) for log in logs)
    assert any(not torch.equal(a, b) for a, b in zip(before, stage2.policy.policy.parameters()))


def test_resnet50_p96_step_cost_anchor():
    """gfnet.md §6: a ResNet-50 step at 96x96 costs about 4.1 G (96/224)^2 = 0.75 GMACs."""
    r50 = dict(backbone=dict(type='mmpretrain.ResNet', depth=50, out_indices=(3, )),
               map_channels=2048)
    torch.manual_seed(0)
    model = GFNet(global_encoder=r50, local_encoder=r50, num_classes=1000, patch_size=96,
                  num_steps=2).eval()
    costs = model.exit_costs((3, 224, 224))
    assert costs[0] == pytest.approx(4.1e9 * (96 / 224)**2, rel=0.04)
    assert [round(c / 1e6, 1) for c in costs] == [763.2, 1572.6]
