# Copyright (c) dynamicnet contributors. All rights reserved.
"""Supervised contrastive loss (single view), as InfoPro's "Contrast" local task term.

Khosla et al., "Supervised Contrastive Learning", NeurIPS 2020; the form used by InfoPro's
official code (``../shared/specs/infopro.md`` §3): L2-normalised projections, temperature 0.07,
positives are the other same-class samples of the batch, self-contrast masked, log-sum-exp with
max subtraction, anchors without positives get a positive count of 1 (they contribute 0 but
still count in the mean).
"""
import torch
import torch.nn.functional as F
from torch import nn

from dynamicnet.registry import MODELS

__all__ = ['supcon_loss', 'SupConLoss']


def supcon_loss(features: torch.Tensor,
                labels: torch.Tensor,
                temperature: float = 0.07,
                base_temperature: float = 0.07) -> torch.Tensor:
    """Single-view supervised contrastive loss.

    Args:
        features: ``(N, D)`` projections; they are L2-normalised here.
        labels: ``(N,)`` integer class labels.
        temperature: Softmax temperature τ.
        base_temperature: The loss is scaled by ``τ / base_temperature``.

    Returns:
        Scalar mean over the ``N`` anchors.
    """
    features = F.normalize(features.float(), dim=1)
    labels = labels.view(-1, 1)
    not_self = 1.0 - torch.eye(len(features), device=features.device)
    positives = torch.eq(labels, labels.T).float() * not_self
    logits = features @ features.T / temperature
    logits = logits - logits.max(dim=1, keepdim=True).values.detach()
    log_prob = logits - torch.log((torch.exp(logits) * not_self).sum(1, keepdim=True))
    num_positives = positives.sum(1).clamp(min=1.0)
    mean_log_prob_pos = (positives * log_prob).sum(1) / num_positives
    return -(temperature / base_temperature) * mean_log_prob_pos.mean()


@MODELS.register_module()
class SupConLoss(nn.Module):
    """Module form of :func:`supcon_loss`.

    Args:
        temperature: Softmax temperature τ.
        base_temperature: Base temperature.
        loss_weight: Multiplier of the loss.
    """

    def __init__(self,
                 temperature: float = 0.07,
                 base_temperature: float = 0.07,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        self.temperature = temperature
        self.base_temperature = base_temperature
        self.loss_weight = loss_weight

    def forward(self, features: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.loss_weight * supcon_loss(features, labels, self.temperature,
                                              self.base_temperature)
