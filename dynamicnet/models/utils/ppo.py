# Copyright (c) dynamicnet contributors. All rights reserved.
"""Proximal Policy Optimisation pieces shared by GFNet and AdaFocus.

``../shared/specs/dynamic-inference.md`` §6.2 and ``gfnet.md`` §3.4/§4.2 (official
``network.ActorCritic`` / ``network.PPO`` of GFNet; AdaFocus copies them with a categorical head):

* :class:`RolloutMemory`: per decision step ``t`` the policy state ``(B, ...)``, the action, its
  behaviour log-probability ``(B,)`` and the reward ``(B,)``; cleared after every update.
* :func:`discounted_returns`: ``R_t = r_t + gamma R_{t+1}`` over the ``L`` decisions of a
  sequence (``gamma = 0.7``).
* :func:`normalize_returns`: ``(R - mean) / (std + 1e-5)`` over the whole ``(L, B)`` batch
  (unbiased std, as ``torch.Tensor.std`` in the official code).
* :func:`ppo_loss`: ``mean[-min(ratio A, clip(ratio, 1-eps, 1+eps) A)] + c_v MSE(V, R)
  - c_e mean(entropy)`` with ``A = R - V.detach()``, ``eps = 0.2``, ``c_v = 0.5``,
  ``c_e = 0.01``.
* :class:`GaussianActionHead` (GFNet: ``sigmoid`` mean in ``(0, 1)^d``, fixed standard deviation
  ``0.1`` (``scale_tril = diag(std)``), sampled actions clamped to ``[0, 1]`` and the
  log-probability taken **of the clamped action**, deterministic action = mean) and
  :class:`CategoricalActionHead` (AdaFocus: a grid of candidate patches, deterministic action =
  argmax).
* :class:`ActorCritic`: state encoder -> optional one-layer GRU (hidden reset to zeros per
  sequence) -> action head and linear critic.
* :class:`PPOPolicy`: the optimised policy plus the behaviour copy ``policy_old`` that acts during
  the rollout (no gradients). ``sync_old()`` copies the weights; callers do it right before each
  rollout, which is the official "copy after every update" without needing a post-step hook.
  K = 1 epoch per mini-batch as in the official code; the optimizer (Adam 3e-4, betas
  (0.9, 0.999)) is the model's ``optim_wrapper``.

DDP: the PPO loss is computed inside the model's ``loss`` forward, so when the model is wrapped by
``MMDistributedDataParallel`` the policy's gradients are all-reduced like any other gradients
(``gfnet.md`` pitfall 12); each rank keeps its own rollout memory, as the official code does per
process.
"""
import copy
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch import Tensor
from torch.distributions import Categorical, Distribution, MultivariateNormal

from dynamicnet.registry import MODELS

__all__ = [
    'CountedGRU', 'RolloutMemory', 'discounted_returns', 'normalize_returns', 'ppo_loss',
    'GaussianActionHead', 'CategoricalActionHead', 'ActorCritic', 'PPOPolicy',
    'policy_state_encoder'
]


class CountedGRU(nn.GRU):
    """:class:`torch.nn.GRU` reporting its MACs to :func:`dynamicnet.utils.complexity.count_macs`.

    Per time step and sample a GRU layer costs ``3 (in H + H H)`` MACs (three gates, input and
    hidden projections); the element-wise gate arithmetic counts 0 under the ``'macs'`` rules.
    """

    def count_macs(self, inputs, output: Tensor) -> int:
        dirs = 2 if self.bidirectional else 1
        steps = output.numel() // (self.hidden_size * dirs)  # sequence length x batch
        per_step = 0
        for layer in range(self.num_layers):
            in_size = self.input_size if layer == 0 else self.hidden_size * dirs
            per_step += dirs * 3 * (in_size * self.hidden_size + self.hidden_size**2)
        return steps * per_step


@dataclass
class RolloutMemory:
    """What the behaviour policy saw and did during one rollout (lists over decision steps)."""

    states: List[Tensor] = field(default_factory=list)
    actions: List[Tensor] = field(default_factory=list)
    logprobs: List[Tensor] = field(default_factory=list)
    rewards: List[Tensor] = field(default_factory=list)

    def clear(self) -> None:
        """Forget everything (after every update, also after validation batches)."""
        for buffer in (self.states, self.actions, self.logprobs, self.rewards):
            buffer.clear()

    def __len__(self) -> int:
        return len(self.actions)


def discounted_returns(rewards: Tensor, gamma: float) -> Tensor:
    """``R_t = r_t + gamma * R_{t+1}`` along the first axis.

    Args:
        rewards: ``(L, B)`` rewards of ``L`` consecutive decisions.
        gamma: Discount factor.

    Returns:
        ``(L, B)`` returns.
    """
    returns = torch.empty_like(rewards)
    running = torch.zeros_like(rewards[0])
    for t in range(rewards.size(0) - 1, -1, -1):
        running = rewards[t] + gamma * running
        returns[t] = running
    return returns


def normalize_returns(returns: Tensor, eps: float = 1e-5) -> Tensor:
    """``(R - mean) / (std + eps)`` over all elements (unbiased std)."""
    return (returns - returns.mean()) / (returns.std() + eps)


def ppo_loss(logprobs: Tensor,
             old_logprobs: Tensor,
             values: Tensor,
             returns: Tensor,
             entropy: Tensor,
             clip_eps: float = 0.2,
             value_coef: float = 0.5,
             entropy_coef: float = 0.01) -> Dict[str, Tensor]:
    """Clipped-surrogate actor-critic loss of the official PPO update.

    Args:
        logprobs: ``(L, B)`` log-probabilities of the stored actions under the current policy.
        old_logprobs: ``(L, B)`` behaviour log-probabilities (treated as constants).
        values: ``(L, B)`` critic values.
        returns: ``(L, B)`` (normalised) returns, constants.
        entropy: ``(L, B)`` entropies of the current policy.

    Returns:
        ``loss_actor`` (``mean -min(...)``), ``loss_value`` (``value_coef * MSE``) and
        ``loss_entropy`` (``-entropy_coef * mean entropy``); their sum is the official loss.
    """
    returns = returns.detach()
    ratio = torch.exp(logprobs - old_logprobs.detach())
    advantages = returns - values.detach()
    surrogate = torch.min(ratio * advantages,
                          torch.clamp(ratio, 1 - clip_eps, 1 + clip_eps) * advantages)
    return dict(
        loss_actor=-surrogate.mean(),
        loss_value=value_coef * F.mse_loss(values, returns),
        loss_entropy=-entropy_coef * entropy.mean())


def policy_state_encoder(kind: str, channels: int, size: int, hidden_dim: int) -> nn.Module:
    """The policy's encoder of a feature map ``(B, channels, size, size)`` -> ``(B, hidden_dim)``.

    ``'mlp'``: flatten + Linear(2048) + ReLU + Linear + ReLU (GFNet's ImageNet policies);
    ``'conv'``: 1x1 conv to 32 channels + ReLU + flatten + Linear + ReLU (GFNet's light policies,
    AdaFocus).
    """
    if kind == 'mlp':
        return nn.Sequential(
            nn.Flatten(), nn.Linear(channels * size * size, 2048), nn.ReLU(),
            nn.Linear(2048, hidden_dim), nn.ReLU())
    if kind == 'conv':
        return nn.Sequential(
            nn.Conv2d(channels, 32, 1, bias=False), nn.ReLU(), nn.Flatten(),
            nn.Linear(32 * size * size, hidden_dim), nn.ReLU())
    raise ValueError(f'state_encoder must be "mlp" or "conv", got {kind!r}')


class GaussianActionHead(nn.Module):
    """Continuous action in ``[0, 1]^d``: ``N(sigmoid(W h), diag(std^2))``, clamped samples.

    Args:
        in_channels: Hidden size.
        action_dim: ``d`` (2 for a normalised patch corner).
        std: Fixed standard deviation (GFNet: 0.1; ``action_var`` in the official code is used
            as ``scale_tril``, i.e. it *is* a standard deviation).
    """

    def __init__(self, in_channels: int, action_dim: int = 2, std: float = 0.1):
        super().__init__()
        self.fc = nn.Linear(in_channels, action_dim)
        self.register_buffer('scale', torch.full((action_dim, ), float(std)), persistent=False)

    def forward(self, hidden: Tensor) -> Distribution:
        mean = self.deterministic(hidden)
        return MultivariateNormal(mean, scale_tril=torch.diag(self.scale.to(mean.dtype)))

    def deterministic(self, hidden: Tensor) -> Tensor:
        """The test-time action: the distribution's mean ``sigmoid(W h)``, without building the
        distribution (whose construction and argument checks cost more than the two ops)."""
        return torch.sigmoid(self.fc(hidden))

    @staticmethod
    def sample(dist: Distribution) -> Tensor:
        return dist.sample().clamp(0.0, 1.0)


class CategoricalActionHead(nn.Module):
    """Discrete action among ``num_actions`` candidates (e.g. AdaFocus' patch grid)."""

    def __init__(self, in_channels: int, num_actions: int):
        super().__init__()
        self.fc = nn.Linear(in_channels, num_actions)

    def forward(self, hidden: Tensor) -> Distribution:
        return Categorical(logits=self.fc(hidden))

    def deterministic(self, hidden: Tensor) -> Tensor:
        """The test-time action: the most probable candidate (the largest logit)."""
        return self.fc(hidden).argmax(dim=-1)

    @staticmethod
    def sample(dist: Distribution) -> Tensor:
        return dist.sample()


class ActorCritic(nn.Module):
    """State encoder -> (GRU) -> action head + critic.

    Args:
        state_encoder: Module mapping a policy state ``(B, ...)`` to ``(B, hidden_dim)``.
        hidden_dim: Width of the encoder output and of the GRU.
        action_head: A :class:`GaussianActionHead` or :class:`CategoricalActionHead`.
        recurrent: Use a one-layer GRU over the decision sequence.
    """

    def __init__(self, state_encoder: nn.Module, hidden_dim: int, action_head: nn.Module,
                 recurrent: bool = True):
        super().__init__()
        self.state_encoder = state_encoder
        self.hidden_dim = hidden_dim
        self.gru = CountedGRU(hidden_dim, hidden_dim) if recurrent else None
        self.actor = action_head
        self.critic = nn.Linear(hidden_dim, 1)

    def init_hidden(self, batch: int, like: Tensor) -> Optional[Tensor]:
        """Zero hidden state ``(1, B, hidden_dim)`` (``None`` without GRU)."""
        if self.gru is None:
            return None
        return like.new_zeros(1, batch, self.hidden_dim)

    def step(self, state: Tensor, hidden: Optional[Tensor]) -> Tuple[Tensor, Optional[Tensor]]:
        """One decision: ``(input of the action head (B, hidden_dim), new hidden)``; the critic
        is not run (it is only needed, and only costs, during the PPO update)."""
        feat = self.state_encoder(state)
        if self.gru is not None:
            out, hidden = self.gru(feat.unsqueeze(0), hidden)
            feat = out[0]
        return feat, hidden

    def evaluate(self, states: Tensor, actions: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Re-run the policy over a stored sequence from a zero hidden state.

        Args:
            states: ``(L, B, ...)``.
            actions: ``(L, B, ...)``.

        Returns:
            ``(log-probabilities, values, entropies)``, each ``(L, B)``.
        """
        seq, batch = states.shape[:2]
        feat = self.state_encoder(states.flatten(0, 1)).view(seq, batch, -1)
        if self.gru is not None:
            feat, _ = self.gru(feat, self.init_hidden(batch, feat))
        feat = feat.flatten(0, 1)
        dist = self.actor(feat)
        flat_actions = actions.flatten(0, 1)
        return (dist.log_prob(flat_actions).view(seq, batch),
                self.critic(feat).view(seq, batch), dist.entropy().view(seq, batch))


@MODELS.register_module()
class PPOPolicy(nn.Module):
    """An actor-critic trained by PPO, with a frozen behaviour copy.

    Args:
        state_encoder: Module or config (built with ``MODELS``; prefix types).
        hidden_dim: Encoder output / GRU width.
        action: ``dict(type='gaussian', action_dim=2, std=0.1)`` or
            ``dict(type='categorical', num_actions=N)``.
        recurrent: One-layer GRU over the decisions (GFNet, AdaFocus: True).
        gamma: Discount (0.7).
        clip_eps: PPO clip (0.2).
        value_coef: Value-loss coefficient (0.5).
        entropy_coef: Entropy coefficient (0.01).
        return_eps: Epsilon of the return normalisation (1e-5).
    """

    def __init__(self,
                 state_encoder,
                 hidden_dim: int,
                 action: Optional[dict] = None,
                 recurrent: bool = True,
                 gamma: float = 0.7,
                 clip_eps: float = 0.2,
                 value_coef: float = 0.5,
                 entropy_coef: float = 0.01,
                 return_eps: float = 1e-5):
        super().__init__()
        if isinstance(state_encoder, dict):
            state_encoder = MODELS.build(state_encoder)
        action = dict(action or dict(type='gaussian'))
        kind = action.pop('type')
        if kind == 'gaussian':
            head = GaussianActionHead(hidden_dim, **action)
        elif kind == 'categorical':
            head = CategoricalActionHead(hidden_dim, **action)
        else:
            raise ValueError(f'unknown action type {kind!r}')
        self.policy = ActorCritic(state_encoder, hidden_dim, head, recurrent)
        self.policy_old = copy.deepcopy(self.policy)
        self.policy_old.requires_grad_(False)
        self.gamma = gamma
        self.clip_eps = clip_eps
        self.value_coef = value_coef
        self.entropy_coef = entropy_coef
        self.return_eps = return_eps

    def sync_old(self) -> None:
        """``policy_old <- policy`` (before every rollout)."""
        self.policy_old.load_state_dict(self.policy.state_dict())

    def init_hidden(self, batch: int, like: Tensor) -> Optional[Tensor]:
        return self.policy_old.init_hidden(batch, like)

    @torch.no_grad()
    def act(self,
            state: Tensor,
            hidden: Optional[Tensor],
            memory: Optional[RolloutMemory] = None,
            deterministic: bool = False,
            behaviour: bool = True) -> Tuple[Tensor, Optional[Tensor]]:
        """Choose actions.

        Args:
            state: Policy state ``(B, ...)`` (detached features).
            hidden: GRU hidden state from :meth:`init_hidden` or the previous call.
            memory: If given (training rollouts), the state, the sampled action and its
                log-probability are stored.
            deterministic: Use the mean / argmax action (test time; no memory).
            behaviour: Act with ``policy_old`` (PPO rollouts) rather than ``policy`` (test
                time, or acting with a frozen trained policy).

        Returns:
            ``(actions, new hidden)``.
        """
        actor_critic = self.policy_old if behaviour else self.policy
        feat, hidden = actor_critic.step(state, hidden)
        head = actor_critic.actor
        if deterministic:
            if memory is not None:
                raise ValueError('rollout memory stores sampled actions; act with '
                                 'deterministic=False to record a rollout')
            return head.deterministic(feat), hidden
        dist = head(feat)
        action = head.sample(dist)
        if memory is not None:
            memory.states.append(state.detach())
            memory.actions.append(action)
            memory.logprobs.append(dist.log_prob(action))
        return action, hidden

    def loss(self, memory: RolloutMemory) -> Dict[str, Tensor]:
        """PPO loss of one update epoch over a full rollout (rewards must be filled in)."""
        if len(memory.rewards) != len(memory.actions):
            raise ValueError(
                f'{len(memory.rewards)} rewards for {len(memory.actions)} stored actions')
        returns = normalize_returns(
            discounted_returns(torch.stack(memory.rewards), self.gamma), self.return_eps)
        logprobs, values, entropy = self.policy.evaluate(
            torch.stack(memory.states), torch.stack(memory.actions))
        return ppo_loss(logprobs, torch.stack(memory.logprobs), values, returns, entropy,
                        self.clip_eps, self.value_coef, self.entropy_coef)
