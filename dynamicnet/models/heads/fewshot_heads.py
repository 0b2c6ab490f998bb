# Copyright (c) dynamicnet contributors. All rights reserved.
"""Few-shot classification heads fitted per episode on frozen features.

- :class:`LinearFewShotHead`: "Baseline" of Chen et al., "A Closer Look at Few-shot
  Classification", ICLR 2019: a new linear classifier fine-tuned on the support features.
- :class:`CosineFewShotHead`: "Baseline++" of the same paper: a cosine-similarity classifier.
- :class:`PrototypeHead`: nearest class mean (Snell et al., NeurIPS 2017), with the soft k-means
  refinement of Ren et al. (ICLR 2018) as its transductive form.
- :class:`CosineSimilarityClsHead`: the cosine classifier as an mmpretrain head, for Baseline++
  pre-training on the base classes.

The fitted heads take features ``(N, D)``, labels ``(N,)`` in ``0 .. num_classes - 1`` and
optional per-sample loss weights (FOT's ``generated_weight``). Transductive fitting (Dhillon et
al., ICLR 2020, "A Baseline for Few-Shot Image Classification") adds the mean prediction entropy
on the unlabelled query features to the support loss. Fitting is seeded, so a head fitted twice
on the same inputs gives identical predictions.
"""
from abc import ABCMeta, abstractmethod
from typing import Optional

import torch
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead
from torch import Tensor, nn

from dynamicnet.registry import MODELS

__all__ = [
    'cosine_logits', 'FewShotHead', 'LinearFewShotHead', 'CosineFewShotHead', 'PrototypeHead',
    'CosineSimilarityClsHead'
]


def cosine_logits(feats: Tensor, weight: Tensor, scale: float) -> Tensor:
    """``scale * cos(feats_i, weight_c)``: ``(N, D) x (C, D) -> (N, C)``."""
    return scale * F.normalize(feats, dim=-1) @ F.normalize(weight, dim=-1).t()


def _weighted_ce(logits: Tensor, labels: Tensor, weights: Tensor) -> Tensor:
    return (F.cross_entropy(logits, labels, reduction='none') * weights).sum() / weights.sum()


def _mean_entropy(logits: Tensor) -> Tensor:
    log_p = logits.log_softmax(dim=-1)
    return -(log_p.exp() * log_p).sum(dim=-1).mean()


class FewShotHead(nn.Module, metaclass=ABCMeta):
    """Interface of the per-episode heads: :meth:`fit` on the support set, then :meth:`forward`."""

    @abstractmethod
    def fit(self,
            feats: Tensor,
            labels: Tensor,
            num_classes: int,
            weights: Optional[Tensor] = None,
            query_feats: Optional[Tensor] = None,
            seed: int = 0) -> None:
        """Fit the head to one episode.

        Args:
            feats: Support features ``(N, D)``.
            labels: Support labels ``(N,)`` in ``0 .. num_classes - 1``.
            num_classes: ``n_way``.
            weights: Per-sample loss weights ``(N,)``; ones when ``None``.
            query_feats: Unlabelled query features ``(Q, D)``; given only in the transductive
                setting.
            seed: Seed of the initialisation and of the mini-batch order.
        """

    def predict(self, feats: Tensor) -> Tensor:
        """Predicted episode labels ``(Q,)``."""
        return self(feats).argmax(dim=-1)


class _FinetunedHead(FewShotHead):
    """A classifier trained from scratch on the support features with SGD.

    Defaults follow Chen et al. (ICLR 2019) meta-test fine-tuning [unconfirmed: from
    recollection of their ``meta_test`` code]: SGD lr 0.01, momentum 0.9, dampening 0.9,
    weight decay 1e-3, 100 epochs over the support set in mini-batches of 4.

    Args:
        num_epochs: Passes over the support set.
        batch_size: Support mini-batch size.
        lr, momentum, dampening, weight_decay: SGD hyper-parameters.
        transductive_weight: Weight of the query-entropy term when ``query_feats`` is given.
    """

    def __init__(self,
                 *,
                 num_epochs: int = 100,
                 batch_size: int = 4,
                 lr: float = 0.01,
                 momentum: float = 0.9,
                 dampening: float = 0.9,
                 weight_decay: float = 1e-3,
                 transductive_weight: float = 1.0) -> None:
        super().__init__()
        self.num_epochs = num_epochs
        self.batch_size = batch_size
        self.optim_args = dict(lr=lr, momentum=momentum, dampening=dampening,
                               weight_decay=weight_decay)
        self.transductive_weight = transductive_weight
        self.layer: Optional[nn.Module] = None

    @abstractmethod
    def _make_layer(self, in_dim: int, num_classes: int) -> nn.Module:
        """Build the per-episode classifier layer ``in_dim -> num_classes``."""

    def fit(self, feats, labels, num_classes, weights=None, query_feats=None, seed=0) -> None:
        feats = feats.detach()
        weights = torch.ones(len(feats), device=feats.device) if weights is None else weights
        generator = torch.Generator().manual_seed(seed)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            self.layer = self._make_layer(feats.shape[1], num_classes).to(feats.device)
        optimizer = torch.optim.SGD(self.layer.parameters(), **self.optim_args)
        with torch.enable_grad():
            for _ in range(self.num_epochs):
                order = torch.randperm(len(feats), generator=generator).to(feats.device)
                for start in range(0, len(feats), self.batch_size):
                    batch = order[start:start + self.batch_size]
                    loss = _weighted_ce(self.layer(feats[batch]), labels[batch], weights[batch])
                    if query_feats is not None and self.transductive_weight > 0:
                        loss = loss + self.transductive_weight * _mean_entropy(
                            self.layer(query_feats.detach()))
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()

    def forward(self, feats: Tensor) -> Tensor:
        if self.layer is None:
            raise RuntimeError('call fit() on the support set first')
        return self.layer(feats)


@MODELS.register_module()
class LinearFewShotHead(_FinetunedHead):
    """Baseline (Chen et al., ICLR 2019): a linear classifier ``W f + b`` fine-tuned per episode.

    Args: see :class:`_FinetunedHead`.
    """

    def _make_layer(self, in_dim: int, num_classes: int) -> nn.Module:
        return nn.Linear(in_dim, num_classes)


class _CosineLayer(nn.Module):

    def __init__(self, in_dim: int, num_classes: int, scale: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.empty(num_classes, in_dim))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)
        self.scale = scale

    def forward(self, feats: Tensor) -> Tensor:
        return cosine_logits(feats, self.weight, self.scale)


@MODELS.register_module()
class CosineFewShotHead(_FinetunedHead):
    """Baseline++ (Chen et al., ICLR 2019): logits ``scale * cos(f, w_c)`` fine-tuned per episode.

    Args:
        scale: Temperature of the cosine logits. Default 10 [design]; Chen et al.'s code is
            recalled to use 2 for up to 200 classes [unconfirmed], which fits 5-way episodes more
            slowly.
        **kwargs: See :class:`_FinetunedHead`.
    """

    def __init__(self, *, scale: float = 10.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scale = scale

    def _make_layer(self, in_dim: int, num_classes: int) -> nn.Module:
        return _CosineLayer(in_dim, num_classes, self.scale)


@MODELS.register_module()
class PrototypeHead(FewShotHead):
    """Nearest class mean: logits are ``-||f - p_c||^2`` or ``scale * cos(f, p_c)``.

    Prototypes are the weighted means of the support features per class. Transductively, the
    prototypes are refined by ``transductive_steps`` soft k-means steps that add the queries with
    their soft assignments (Ren et al., ICLR 2018).

    Args:
        metric: ``'euclidean'`` (squared distance) or ``'cosine'``.
        scale: Cosine temperature (``metric='cosine'``).
        transductive_steps: Soft k-means steps when query features are given.
    """

    def __init__(self,
                 *,
                 metric: str = 'euclidean',
                 scale: float = 10.0,
                 transductive_steps: int = 1) -> None:
        super().__init__()
        if metric not in ('euclidean', 'cosine'):
            raise ValueError(f'metric must be euclidean or cosine, got {metric!r}')
        self.metric = metric
        self.scale = scale
        self.transductive_steps = transductive_steps
        self.prototypes: Optional[Tensor] = None

    def fit(self, feats, labels, num_classes, weights=None, query_feats=None, seed=0) -> None:
        weights = torch.ones(len(feats), device=feats.device) if weights is None else weights
        assign = F.one_hot(labels, num_classes).to(feats.dtype) * weights[:, None]  # (N, C)
        mass, total = assign.sum(dim=0), assign.t() @ feats
        self.prototypes = total / mass[:, None]
        if query_feats is None:
            return
        for _ in range(self.transductive_steps):
            soft = self(query_feats).softmax(dim=-1)  # (Q, C)
            self.prototypes = (total + soft.t() @ query_feats) / (mass + soft.sum(dim=0))[:, None]

    def forward(self, feats: Tensor) -> Tensor:
        if self.prototypes is None:
            raise RuntimeError('call fit() on the support set first')
        if self.metric == 'cosine':
            return cosine_logits(feats, self.prototypes, self.scale)
        return -torch.cdist(feats, self.prototypes).pow(2)


@MODELS.register_module()
class CosineSimilarityClsHead(ClsHead):
    """mmpretrain classification head with cosine logits, for Baseline++ pre-training.

    ``logits = scale * cos(pre_logits, w_c)``; ``pre_logits`` is the last neck output ``(N, D)``.

    Args:
        num_classes: Number of (base) classes.
        in_channels: Feature dimension ``D``.
        scale: Cosine temperature.
        **kwargs: :class:`mmpretrain.models.heads.ClsHead` arguments (``loss``, ``topk``, ...).
    """

    def __init__(self, num_classes: int, in_channels: int, scale: float = 10.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.scale = scale
        self.weight = nn.Parameter(torch.empty(num_classes, in_channels))
        nn.init.normal_(self.weight, std=0.01)

    def forward(self, feats) -> Tensor:
        return cosine_logits(self.pre_logits(feats), self.weight, self.scale)
