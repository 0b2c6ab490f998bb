# Copyright (c) dynamicnet contributors. All rights reserved.
"""AdaFocus: grid crops, rewards, un-advanced baseline, stage freezing, costs (adafocus.md §10)."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmpretrain.evaluation import AveragePrecision
from mmpretrain.structures import DataSample

from dynamicnet.models.recognizers.adafocus import (AdaFocus, AdaFocusGRUHead, action_grid,
                                                    adafocus_rewards)

SLIM_G = dict(type='mmpretrain.MobileNetV2', widen_factor=0.25, out_indices=(7, ))
SLIM_L = dict(type='mmpretrain.ResNet', depth=18, base_channels=8, out_indices=(3, ))
PARTS = ('global_backbone', 'local_backbone', 'global_head', 'local_head', 'cls_head', 'policy')


@pytest.fixture(autouse=True)
def _scope(default_scope):
    init_default_scope('mmpretrain')


def _model(stage=1, frames=3, **kwargs):
    torch.manual_seed(0)
    return AdaFocus(global_backbone=SLIM_G, local_backbone=SLIM_L, global_channels=1280,
                    local_channels=64, num_classes=5, num_segments=frames, patch_size=32,
                    input_size=64, policy=dict(hidden_dim=16), cls_head=dict(hidden_dim=16),
                    training_stage=stage, **kwargs)


def _samples(labels):
    return [DataSample().set_gt_label(int(y)) for y in labels]


@pytest.mark.parametrize('patch', [96, 128, 160, 192])
def test_grid_crop_for_every_action(patch):
    """Action k -> corner (floor(k/7)/6, (k mod 7)/6); crop top-left floor(a (224 - P))."""
    grid = action_grid(49)
    rows = torch.arange(224.0).view(1, 1, 224, 1).expand(1, 1, 224, 224)
    cols = torch.arange(224.0).view(1, 1, 1, 224).expand(1, 1, 224, 224)
    image = torch.cat([rows, cols], 1).repeat(49, 1, 1, 1)  # pixel (r, c) holds (r, c)
    from dynamicnet.models.classifiers.gfnet import crop_patches
    crops = crop_patches(image, grid, patch)
    assert crops.shape == (49, 2, patch, patch)
    for k in range(49):
        top = math.floor((k // 7) / 6 * (224 - patch))
        left = math.floor((k % 7) / 6 * (224 - patch))
        assert crops[k, 0, 0, 0].item() == top and crops[k, 1, 0, 0].item() == left
        assert crops[k, 0, -1, 0].item() == top + patch - 1
        assert crops[k, 1, 0, -1].item() == left + patch - 1
    assert (crops[0, 0, 0, 0].item(), crops[0, 1, 0, 0].item()) == (0, 0)
    assert (crops[48, 0, -1, -1].item(), crops[48, 1, -1, -1].item()) == (223, 223)


def test_action_grid_other_sizes_and_errors():
    assert torch.equal(action_grid(16)[5], torch.tensor([1 / 3, 1 / 3]))
    assert action_grid(64).shape == (64, 2)
    with pytest.raises(ValueError):
        action_grid(50)


def test_reward_hand_computed():
    # p_t[y] for T = 2 frames, B = 2 videos, and the random-patch baseline p~_t[y]
    p = torch.tensor([[0.50, 0.20], [0.75, 0.10]])
    q = torch.tensor([[0.25, 0.40], [0.70, 0.10]])
    assert torch.allclose(adafocus_rewards(p, q), torch.tensor([[0.25, -0.20], [0.05, 0.0]]))
    assert torch.allclose(adafocus_rewards(p, kind='prev'), torch.tensor([[0.5, 0.2],
                                                                          [0.25, -0.1]]))
    assert torch.equal(adafocus_rewards(p, kind='conf'), p)
    with pytest.raises(ValueError):
        adafocus_rewards(p, kind='random')


def test_rollout_reward_equals_policy_minus_random_patch(monkeypatch):
    """Reward of a real rollout = softmax of f_C with the policy patch minus softmax with the
    (fixed here) random patch, both from the same GRU state, recomputed by hand."""
    model = _model(stage=2, frames=2)
    model.train()
    base = torch.tensor([[0.9, 0.05], [0.1, 0.6]])
    monkeypatch.setattr(model, 'random_corners', lambda b, like: base.to(like.dtype))
    x = torch.randn(2, 2, 3, 64, 64)
    labels = torch.tensor([3, 1])
    torch.manual_seed(1)
    with torch.no_grad():
        logits, states = model._run(x, 'rollout')
    got = adafocus_rewards(model._true_probs(logits, labels),
                           model._true_probs([s['baseline_logits'] for s in states], labels))
    hidden, expect = None, []
    with torch.no_grad():
        for t in range(2):
            frame = x[:, t]
            fmap = model.global_backbone(frame)[-1]
            g = fmap.mean((2, 3))
            lp = model.focus(frame, states[t]['corners'])
            lr = model.focus(frame, base)
            out_p, new_hidden = model.cls_head(torch.cat([g, lp], 1), hidden)
            out_r, _ = model.cls_head(torch.cat([g, lr], 1), hidden)
            pp = F.softmax(out_p, 1)[torch.arange(2), labels]
            pr = F.softmax(out_r, 1)[torch.arange(2), labels]
            expect.append(pp - pr)
            hidden = new_hidden
    assert torch.allclose(got, torch.stack(expect), atol=1e-6)
    model.memory.clear()


def test_baseline_does_not_advance_gru_state():
    model = _model(stage=2, frames=3)
    model.train()
    calls = []
    original = model.cls_head.forward

    def spy(feat, hidden):
        logits, new = original(feat, hidden)
        calls.append((None if hidden is None else hidden.clone(), new.clone()))
        return logits, new

    model.cls_head.forward = spy
    with torch.no_grad():
        _, states = model._run(torch.randn(2, 3, 3, 64, 64), 'rollout')
    assert len(calls) == 6  # policy step + baseline per frame
    for t in range(3):
        policy_in, policy_out = calls[2 * t]
        base_in, base_out = calls[2 * t + 1]
        if t == 0:
            assert policy_in is None and base_in is None
        else:
            assert torch.equal(policy_in, base_in)  # same, un-advanced state
            assert torch.equal(policy_in, calls[2 * (t - 1)][1])  # advanced by the policy step
        assert torch.equal(states[t]['cls_hidden'], policy_out)
        assert not torch.equal(base_out, policy_out)
    model.memory.clear()


def test_gru_head_steps_equal_sequence_and_video_output_is_last_step():
    torch.manual_seed(0)
    head = AdaFocusGRUHead(6, 4, 3, dropout=0.0).eval()
    feats = torch.randn(2, 5, 6)
    seq, _ = head.gru(feats)
    ref = head.fc(seq)  # (B, T, C) of the official batch_first GRU
    hidden, steps = None, []
    for t in range(5):
        out, hidden = head(feats[:, t], hidden)
        steps.append(out)
    assert torch.allclose(torch.stack(steps, 1), ref, atol=1e-6)
    model = _model(frames=3).eval()
    x = torch.randn(2, 3, 3, 64, 64)
    samples = model.predict(x, _samples([0, 1]))
    exits = model.forward_exits(x)
    assert samples[0].exit_scores.shape == (3, 5)
    assert torch.allclose(samples[1].pred_score, F.softmax(exits[-1][1], 0), atol=1e-6)


def check_trainable_parts(model, parts, trainable, inputs, labels):
    """One training loss + backward of a staged AdaFocus model (also used by
    test_adafocus_tsm.py): exactly the ``trainable`` sub-modules among ``parts`` get gradients,
    require them and are in train mode; the policy's behaviour copy never trains."""
    model.train()
    losses = model.loss(inputs, _samples(labels))
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    for part in parts:
        module = getattr(model, part)
        params = list(module.policy.parameters()) if part == 'policy' else list(
            module.parameters())
        got_grad = any(p.grad is not None and p.grad.abs().sum() > 0 for p in params)
        assert got_grad == (part in trainable), part
        assert all(p.requires_grad == (part in trainable) for p in params), part
        if part != 'policy':
            assert module.training == (part in trainable), part
    assert not any(p.requires_grad for p in model.policy.policy_old.parameters())
    model.memory.clear()


def _check_stage(model, trainable):
    bn = model.global_backbone.conv1.bn
    stats = bn.running_mean.clone()
    x = torch.randn(2, model.num_segments, 3, 64, 64)
    check_trainable_parts(model, PARTS, trainable, x, [1, 4])
    # the frozen glancer's BN statistics do not move
    assert torch.equal(bn.running_mean, stats) == ('global_backbone' not in trainable)


@pytest.mark.parametrize('stage,kwargs,trainable', [
    (0, dict(init_target='global'), {'global_backbone', 'global_head'}),
    (0, dict(init_target='local'), {'local_backbone', 'local_head'}),
    (1, {}, {'local_backbone', 'cls_head'}),
    (2, {}, {'policy'}),
    (3, {}, {'cls_head'}),
    (3, dict(stage3_trainable=('cls_head', 'local_backbone')), {'cls_head', 'local_backbone'}),
])
def test_stage_freezing(stage, kwargs, trainable):
    model = _model(stage=stage, frames=2, **kwargs)
    _check_stage(model, trainable)
    if stage == 2:
        assert model.policy.policy.training
        assert not model.cls_head.training and not model.local_backbone.training


def test_stage1_uses_random_patches_stage3_the_argmax_policy(monkeypatch):
    model = _model(stage=1, frames=2)
    seen = []
    monkeypatch.setattr(model, 'focus', lambda f, c: (seen.append(c), torch.zeros(
        f.size(0), 64, requires_grad=True))[1])
    model.loss(torch.randn(2, 2, 3, 64, 64), _samples([0, 1]))
    assert model._mode == 'random'
    model.training_stage = 3
    seen.clear()
    model.loss(torch.randn(2, 2, 3, 64, 64), _samples([0, 1]))
    grid = model.actions
    for corners in seen:  # every chosen corner is a grid point
        assert all((grid == c).all(1).any() for c in corners)
    assert model._mode == 'argmax'


def test_stage2_ppo_loss_and_memory(monkeypatch):
    model = _model(stage=2, frames=3)
    model.train()
    seen = {}
    original = model.policy.loss

    def spy(memory):
        seen.update(states=torch.stack(memory.states), actions=torch.stack(memory.actions),
                    logprobs=torch.stack(memory.logprobs), rewards=torch.stack(memory.rewards))
        return original(memory)

    monkeypatch.setattr(model.policy, 'loss', spy)
    losses = model.loss(torch.randn(4, 3, 3, 64, 64), _samples([0, 1, 2, 3]))
    assert set(losses) == {'loss_actor', 'loss_value', 'loss_entropy', 'reward'}
    assert len(model.memory) == 0
    assert seen['states'].shape[:2] == (3, 4) and seen['actions'].shape == (3, 4)
    # behaviour copy synced right before the rollout: ratio 1, so the actor loss is -mean(A)
    from dynamicnet.models.utils.ppo import discounted_returns, normalize_returns
    with torch.no_grad():
        logprobs, values, _ = model.policy.policy.evaluate(seen['states'], seen['actions'])
        returns = normalize_returns(discounted_returns(seen['rewards'], 0.7))
    assert torch.allclose(logprobs, seen['logprobs'], atol=1e-5)
    assert losses['loss_actor'].item() == pytest.approx(-(returns - values).mean().item(),
                                                        abs=1e-5)
    assert losses['reward'].item() == pytest.approx(seen['rewards'].mean().item())


def test_early_exit_and_costs():
    model = _model(frames=3).eval()
    x = torch.randn(3, 3, 3, 64, 64)
    costs = model.exit_costs((3, 3, 64, 64))
    assert costs[1] == pytest.approx(2 * costs[0]) and costs[2] == pytest.approx(3 * costs[0])
    scores, index = model.early_exit(x, [0.0, 0.0, 0.0])
    assert index.tolist() == [0, 0, 0]
    first = F.softmax(model.forward_exits(x)[0], 1)
    assert torch.allclose(scores, first, atol=1e-6)
    scores, index = model.early_exit(x, [2.0, 2.0, 2.0])
    assert index.tolist() == [2, 2, 2]


def test_full_size_shapes_and_gflops():
    """MBv2 map (B, 1280, 7, 7) at 224; per-video MACs 16 (F_mbv2(224) + F_r50(P)) + policy/GRU,
    against the paper's 17.1 / 26.6 / 38.6 GFLOPs (within 3%)."""
    paper = {96: 17.1, 128: 26.6, 160: 38.6}
    for patch, anchor in paper.items():
        torch.manual_seed(0)
        model = AdaFocus(
            global_backbone=dict(type='mmpretrain.MobileNetV2'),
            local_backbone=dict(type='mmpretrain.ResNet', depth=50),
            num_classes=200, num_segments=1, patch_size=patch)
        model.eval()
        with torch.no_grad():
            fmap, _ = model.glance(torch.zeros(2, 3, 224, 224))
            local = model.focus(torch.zeros(2, 3, 224, 224), model.actions[[0, 48]])
        assert fmap.shape == (2, 1280, 7, 7) and local.shape == (2, 2048)
        per_video = 16 * model.exit_costs((1, 3, 224, 224))[0] / 1e9
        assert abs(per_video - anchor) / anchor < 0.03, (patch, per_video)
        derived = 16 * (0.2995 + 4.0871 * (patch / 224)**2)
        assert 0 < per_video - derived < 0.5  # policy + GRUs: about 0.37 G per video


def test_map_matches_cal_map_on_toy():
    """mmpretrain AveragePrecision = official cal_map: per-class mean precision at the ranks of
    the positives, classes without positives count 0, x 100."""
    scores = torch.tensor([[0.7, 0.2, 0.1], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1]])
    labels = [0, 1, 1, 0]
    metric = AveragePrecision()
    metric.process(None, [dict(pred_score=s, gt_label=torch.tensor([y]), num_classes=3)
                          for s, y in zip(scores, labels)])
    result = metric.evaluate(4)
    # class 0 ranking: v0 (+), v1 (-), v3 (+) -> (1/1 + 2/3) / 2; class 1: v2 (+), v3 (-),
    # v1 (+) -> (1 + 2/3) / 2; class 2: no positives -> 0
    expect = ((1 + 2 / 3) / 2 + (1 + 2 / 3) / 2 + 0) / 3 * 100
    assert result['multi-label/mAP'] == pytest.approx(expect, abs=1e-4)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        _model(stage=4)
    with pytest.raises(ValueError):
        _model(stage3_trainable=('policy', ))
    with pytest.raises(ValueError):
        _model(reward='other')
    with pytest.raises(ValueError):
        _model().init_state(torch.zeros(1, 2, 3, 64, 64))
