# Copyright (c) dynamicnet contributors. All rights reserved.
"""PPO pieces on hand-computed cases (gfnet.md §4.2, §9; dynamic-inference.md §6.2)."""
import math

import pytest
import torch
import torch.nn as nn

from dynamicnet.models.utils.ppo import (CategoricalActionHead, GaussianActionHead, PPOPolicy,
                                         RolloutMemory, discounted_returns, normalize_returns,
                                         ppo_loss)


def test_discounted_returns_hand_computed():
    rewards = torch.tensor([[0.2, -1.0], [0.5, 2.0]])  # (L=2, B=2): [r2, r3] per image
    returns = discounted_returns(rewards, 0.7)
    torch.testing.assert_close(returns, torch.tensor([[0.2 + 0.7 * 0.5, -1.0 + 0.7 * 2.0],
                                                      [0.5, 2.0]]))
    three = discounted_returns(torch.tensor([[1.0], [1.0], [1.0]]), 0.5)
    assert three.flatten().tolist() == [1.75, 1.5, 1.0]


def test_normalize_returns_uses_whole_batch_unbiased_std():
    r = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    mean, std = 3.0, math.sqrt(((4 + 1 + 0 + 9) / 3))
    torch.testing.assert_close(normalize_returns(r), (r - mean) / (std + 1e-5))


def test_ppo_loss_hand_computed():
    returns = torch.tensor([[1.0, -1.0]])
    values = torch.tensor([[0.5, 0.0]])
    entropy = torch.tensor([[2.0, 2.0]])
    old = torch.zeros(1, 2)
    # ratio 1: surrogate = A = R - V = [0.5, -1]
    out = ppo_loss(old.clone(), old, values, returns, entropy)
    assert out['loss_actor'].item() == pytest.approx(-(0.5 - 1.0) / 2)
    assert out['loss_value'].item() == pytest.approx(0.5 * (0.25 + 1.0) / 2)
    assert out['loss_entropy'].item() == pytest.approx(-0.01 * 2.0)
    # ratio e^1 > 1.2: positive advantage clipped at 1.2*A, negative one keeps ratio*A (min)
    logp = torch.tensor([[1.0, 1.0]])
    out = ppo_loss(logp, old, values, returns, entropy)
    assert out['loss_actor'].item() == pytest.approx(-(1.2 * 0.5 + math.e * -1.0) / 2)


def test_gaussian_head_clamps_and_scores_the_clamped_action():
    head = GaussianActionHead(4, action_dim=2, std=0.1)
    nn.init.zeros_(head.fc.weight)
    nn.init.constant_(head.fc.bias, 10.0)  # mean ~ sigmoid(10) ~ 1 -> samples often above 1
    dist = head(torch.zeros(64, 4))
    torch.manual_seed(0)
    actions = head.sample(dist)
    assert actions.min() >= 0 and actions.max() <= 1
    assert (actions == 1).any()
    torch.testing.assert_close(dist.stddev, torch.full((64, 2), 0.1))
    # the deterministic action is the distribution's mean, computed without building it
    assert torch.equal(head.deterministic(torch.zeros(64, 4)), dist.mean)
    torch.testing.assert_close(dist.mean, torch.sigmoid(torch.full((64, 2), 10.)))


def test_categorical_head_deterministic_is_the_most_probable_candidate():
    torch.manual_seed(0)
    head = CategoricalActionHead(4, num_actions=9)
    hidden = torch.randn(32, 4)
    assert torch.equal(head.deterministic(hidden), head(hidden).probs.argmax(dim=-1))


def _policy(recurrent=True, action=None):
    torch.manual_seed(0)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(12, 8), nn.ReLU())
    return PPOPolicy(encoder, hidden_dim=8, action=action, recurrent=recurrent)


def test_act_is_deterministic_at_test_and_evaluate_replays_the_rollout():
    policy = _policy()
    states = [torch.randn(3, 3, 2, 2) for _ in range(3)]
    hidden = policy.init_hidden(3, states[0])
    assert hidden.abs().sum() == 0
    memory = RolloutMemory()
    torch.manual_seed(1)
    for s in states:
        action, hidden = policy.act(s, hidden, memory)
        assert action.shape == (3, 2) and action.min() >= 0 and action.max() <= 1
    # re-evaluation from a zero hidden state reproduces the behaviour log-probabilities
    logp, values, entropy = policy.policy.evaluate(torch.stack(memory.states),
                                                   torch.stack(memory.actions))
    torch.testing.assert_close(logp, torch.stack(memory.logprobs))
    assert values.shape == (3, 3) and entropy.shape == (3, 3)
    h = policy.init_hidden(3, states[0])
    a1, _ = policy.act(states[0], h, deterministic=True)
    a2, _ = policy.act(states[0], h, deterministic=True)
    torch.testing.assert_close(a1, a2)
    feat = policy.policy_old.state_encoder(states[0])
    out, _ = policy.policy_old.gru(feat[None], h)
    torch.testing.assert_close(a1, torch.sigmoid(policy.policy_old.actor.fc(out[0])))


def test_update_changes_policy_only_and_sync_copies_it():
    policy = _policy(action=dict(type='categorical', num_actions=5))
    memory = RolloutMemory()
    hidden = policy.init_hidden(4, torch.zeros(1))
    for t in range(2):
        s = torch.randn(4, 3, 2, 2)
        action, hidden = policy.act(s, hidden, memory)
        assert action.dtype == torch.long and action.max() < 5
        memory.rewards.append(torch.randn(4))
    losses = policy.loss(memory)
    total = sum(losses.values())
    opt = torch.optim.Adam(policy.parameters(), lr=1e-2)
    before_old = [p.clone() for p in policy.policy_old.parameters()]
    total.backward()
    opt.step()
    assert all(p.grad is None for p in policy.policy_old.parameters())
    assert all(torch.equal(a, b) for a, b in zip(before_old, policy.policy_old.parameters()))
    policy.sync_old()
    assert all(torch.equal(a, b) for a, b in zip(policy.policy.parameters(),
                                                 policy.policy_old.parameters()))
    memory.clear()
    assert len(memory) == 0 and not memory.rewards
