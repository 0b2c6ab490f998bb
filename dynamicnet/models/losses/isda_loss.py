# Copyright (c) dynamicnet contributors. All rights reserved.
"""ISDA: the online class-conditional covariance estimator and the surrogate loss.

"Implicit Semantic Data Augmentation for Deep Networks" (NeurIPS 2019) and "Regularizing Deep
Networks with Semantic Data Augmentation" (TPAMI 2021), spec ``../shared/specs/isda.md``.

ISDA is only a loss: no image or feature is generated. For a deep feature ``a_i`` (the input of
the final linear classifier ``z = W a + b``) with label ``y_i`` the expected cross-entropy under
``ã_i ~ N(a_i, λ Σ_{y_i})`` is bounded by an ordinary cross-entropy on the augmented logits

    z̃_ij = z_ij + (λ / 2) · (w_j − w_{y_i})ᵀ Σ_{y_i} (w_j − w_{y_i}).

The quadratic term depends on the label only, so it is a row of the ``C × C`` table
``S[c, j] = (w_j − w_c)ᵀ Σ_c (w_j − w_c)`` (spec §3.3). dynamicnet computes the rows of ``S`` once
per **distinct label of the batch** instead of once per sample as the official code does (which
materialises ``N × C × A`` and ``N × A × A`` temporaries); the results are identical
(:mod:`dynamicnet.models.losses.isda_reference` keeps the per-sample form for tests and the
benchmark). The term has no gradient with respect to the features; ``Σ`` is always detached.

Shapes: ``N`` samples (pixels, RoIs), ``A`` feature width, ``C`` classes, ``U`` distinct labels.
"""
import itertools
import math
from typing import Callable, List, Optional, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import dist
from mmengine.logging import MessageHub, print_log

from dynamicnet.registry import MODELS

__all__ = [
    'ISDAEstimator', 'ISDALoss', 'isda_augment', 'isda_label_rows', 'classifier_weight',
    'runner_progress'
]


def runner_progress(by: str) -> Tuple[int, int]:
    """Training progress ``(t, T)`` published by mmengine's ``RuntimeInfoHook``.

    Args:
        by: ``'epoch'``: ``t`` is the 0-based epoch, ``T`` the number of epochs (ISDA's
            classification schedule: epoch 0 is plain cross-entropy). ``'iter'``: ``t`` is the
            1-based iteration, ``T`` the number of iterations (ISDA's segmentation schedule).

    Returns:
        ``(t, T)``.

    Raises:
        RuntimeError: Outside a training run of :class:`mmengine.runner.Runner` (the
            ``MessageHub`` carries no ``max_epochs``/``max_iters``).
    """
    if by not in ('epoch', 'iter'):
        raise ValueError(f"by must be 'epoch' or 'iter', got {by!r}")
    hub = MessageHub.get_current_instance()
    total = hub.get_info(f'max_{by}s')
    step = hub.get_info(by)
    if total is None or step is None:
        raise RuntimeError(
            f'The {by}-based schedule reads the training progress ({by}, max_{by}s) that '
            "mmengine's RuntimeInfoHook publishes in the MessageHub, but none is there: train "
            "with mmengine.runner.Runner, or use schedule='constant' outside a runner.")
    return (int(step) + 1, int(total)) if by == 'iter' else (int(step), int(total))


def classifier_weight(classifier: Union[nn.Module, torch.Tensor]) -> torch.Tensor:
    """The ``(C, A)`` weight of a linear classifier.

    Args:
        classifier: An ``nn.Linear``, a 1×1 ``nn.Conv2d``/``nn.Conv1d`` (segmentation heads) or
            the weight tensor itself.

    Returns:
        The weight as a ``(C, A)`` view (it keeps its gradient).

    Raises:
        TypeError: For any other module: ISDA needs the classifier to be one linear map
            ``z = W a + b`` applied to the features it receives.
        ValueError: For a K×K convolution, a grouped convolution or a weight that is not 2-D.
    """
    if isinstance(classifier, torch.Tensor):
        weight = classifier
    elif isinstance(classifier, nn.Linear):
        weight = classifier.weight
    elif isinstance(classifier, (nn.Conv1d, nn.Conv2d)):
        if any(k != 1 for k in classifier.kernel_size) or classifier.groups != 1:
            raise ValueError(
                'ISDA needs a linear classifier; a convolution classifier is accepted only with '
                f'kernel size 1 and groups=1, got kernel_size={classifier.kernel_size}, '
                f'groups={classifier.groups} (a K×K conv mixes neighbouring features, so the '
                'per-feature Gaussian bound does not apply).')
        weight = classifier.weight.flatten(1)
    else:
        raise TypeError(
            'ISDA needs an accessible linear classifier (nn.Linear, a 1×1 conv, or its weight '
            f'tensor), got {type(classifier).__name__}.')
    if weight.dim() != 2:
        raise ValueError(f'classifier weight must be 2-D (C, A), got shape {tuple(weight.shape)}')
    return weight


# Elements of the class covariances gathered per batched step of the full-covariance paths on
# GPUs (2**23 float32 = 32 MiB): a few batched products instead of one per class (kernel launches
# dominate there), with temporaries far below the per-sample path's N·A² floats.
_CHUNK_ELEMENTS = 2**23
# Elements (2**16 float32 = 256 KiB) of the differences D_u that the CPU row builder makes, and
# of the products P_u it sums, per run of consecutive labels: both stay in a core's L2 cache.
_CACHED_ELEMENTS = 2**16
# Devices where one class per step (views of the state, no gathered copies) is faster.
_PER_CLASS_DEVICES = ('cpu', )
# A full covariance is stored as ``Σ_c / a_c``; ``a_c`` is folded into the stored tensor once it
# falls below this (after a 1024-fold growth of the class count since the last fold).
_MIN_SCALE = 2.0**-10
# On these devices a class with fewer batch samples than this folds ``a_c`` at every merge: its
# update is a thin product that reads a state cold from memory slower than a linear scaling pass
# followed by the product on the cached state (A=640, one thread, 3-row updates of 73 states as
# at C=100: 11.0 ms against 13.7 ms); at C=10 (about 13 samples per class) deferring wins (4.2
# against 5.7 ms for 10 states with their row products).
_FOLD_EVERY_MERGE = dict(cpu=4)
# Consumer of the merged covariances: (step classes, stored M, factors a), see ISDAEstimator.update.
_OnMerge = Callable[[List[int], torch.Tensor, Union[float, torch.Tensor]], None]


def _class_parts(classes: torch.Tensor, per_class: int) -> List[Tuple[slice, torch.Tensor]]:
    """Steps over the distinct classes of the batched (GPU) full-covariance paths.

    Returns ``(positions, selector)`` pairs: ``positions`` slices ``classes``, ``selector`` indexes
    the ``(C, A, A)`` state; a step covers up to ``_CHUNK_ELEMENTS / per_class`` classes (a
    gathered copy). On ``_PER_CLASS_DEVICES`` the callers visit one class at a time instead, as a
    view of the state that is read and updated in place: there memory traffic and the number of
    Python-level calls, not launches, dominate.
    """
    step = max(1, _CHUNK_ELEMENTS // max(per_class, 1))
    return [(slice(i, i + step), classes[i:i + step]) for i in range(0, classes.numel(), step)]


class _FullCovRows(torch.autograd.Function):
    """Attaches the gradient to rows ``S[u, :]`` computed without autograd from ``P_u = D_u Σ_u``.

    ``S[c, j] = d_jᵀ Σ_c d_j`` with ``D_c = W − 1·w_cᵀ`` gives ``∂S[c, j]/∂d_j = 2 Σ_c d_j`` (``Σ``
    symmetric), i.e. ``2 P_c[j]``: the backward needs no second ``C·A²`` matmul per class.
    """

    @staticmethod
    def forward(ctx, weight: torch.Tensor, rows: torch.Tensor, projected: torch.Tensor,
                classes: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(projected, classes)
        return rows

    @staticmethod
    def backward(ctx, grad_rows: torch.Tensor):
        projected, classes = ctx.saved_tensors
        # dL/dD_c = 2 g_c ⊙ P_c; D_c = W − w_c, so W gets Σ_c dL/dD_c and w_c loses its row sum.
        # Two contractions that read P once each, instead of materialising the (U, C, A) product.
        grad = 2 * grad_rows                                                       # (U, C)
        grad_weight = torch.bmm(grad.t().unsqueeze(1), projected.transpose(0, 1)).squeeze(1)
        grad_weight.index_add_(0, classes, torch.bmm(grad.unsqueeze(1), projected).squeeze(1),
                               alpha=-1)
        return grad_weight, None, None, None


class _DiagCovRows(torch.autograd.Function):
    """``S[u, :]`` for diagonal covariances ``Σ_u = diag(v_u)``, with a hand-written backward.

    ``S[u, j] = Σ_a v_ua (w_ja − w_ua)²`` expands into two ``(U, A)·(A, C)`` products,
    ``V·(W⊙W)ᵀ − 2 (V⊙W_u)·Wᵀ + rowsum(V⊙W_u⊙W_u)``. With ``g`` the incoming gradient (zero at
    ``j = u``, where ``S`` is set to exactly 0), ``∂/∂w_j = 2 Σ_u g_uj v_u ⊙ (w_j − w_u)``, i.e.
    ``2 (W ⊙ gᵀV − gᵀ(V⊙W_u))``, and ``∂/∂w_u = −2 v_u ⊙ (gW − rowsum(g) w_u)``: three
    ``U·C·A`` products and one ``(C, A)`` gradient, where autograd through the expansion would
    accumulate five ``(C, A)`` gradients into ``W``.
    """

    @staticmethod
    def forward(ctx, weight: torch.Tensor, var: torch.Tensor,
                classes: torch.Tensor) -> torch.Tensor:
        w_u = weight[classes]
        scaled = var * w_u
        rows = torch.addmm((scaled * w_u).sum(1, keepdim=True), var, (weight * weight).t())
        rows.addmm_(scaled, weight.t(), alpha=-2)
        # The expansion cancels only up to rounding at j = u; the target logit must stay exact.
        rows.scatter_(1, classes.unsqueeze(1), 0.0)
        ctx.save_for_backward(weight, var, classes)
        return rows

    @staticmethod
    def backward(ctx, grad_rows: torch.Tensor):
        weight, var, classes = ctx.saved_tensors
        grad = grad_rows.scatter(1, classes.unsqueeze(1), 0.0)
        w_u = weight[classes]
        both = grad.t() @ torch.cat([var, var * w_u], dim=1)               # (C, 2A)
        grad_weight = torch.addcmul(both[:, var.size(1):], weight, both[:, :var.size(1)],
                                    value=-1).mul_(-2)
        own = torch.addcmul(grad @ weight, grad.sum(1, keepdim=True), w_u, value=-1).mul_(var)
        grad_weight.index_add_(0, classes, own, alpha=-2)
        return grad_weight, None, None


class _FullCovRowBuilder:
    """Builds the rows ``S[u, :]`` of the distinct labels ``u`` step by step (full covariance).

    :meth:`visit` receives the stored covariances ``M_u`` with their factors ``a_u``
    (``Σ_u = a_u M_u``, see :class:`ISDAEstimator`) as they become available: from the state
    (:func:`isda_label_rows`) or, in training, from the estimator right after their merge
    (:meth:`ISDAEstimator.update`), while ``M_u`` is still in cache. That read of the ``U·A²``
    state is then the only one; on CPUs memory traffic, not multiply-adds, bounds the merge. It
    computes ``P_u = a_u D_u M_u`` (one class per visit: the factor as the product's ``alpha``;
    a batched step: one scaling of its products) and the row sums with ``D_u`` while they are in
    cache too.

    Args:
        weight: Classifier weight ``(C, A)`` float32; the gradient of :meth:`rows` flows into it.
        classes: Distinct labels ``(U,)``, sorted ascending.
    """

    def __init__(self, weight: torch.Tensor, classes: torch.Tensor) -> None:
        self.weight = weight
        self.classes = classes
        self.position = {c: k for k, c in enumerate(classes.tolist())}
        detached = weight.detach()
        self.diff_rows = (detached.unsqueeze(0), detached.index_select(0, classes).unsqueeze(1))
        self.projected = weight.new_empty(classes.numel(), *weight.shape)   # P_u, (U, C, A)
        self.table = weight.new_empty(classes.numel(), weight.size(0))       # S[u, :]
        self._views = None

    def visit(self, step_classes: List[int], cov: torch.Tensor,
              scale: Union[float, torch.Tensor, None] = None) -> None:
        """Compute ``P_u`` and ``S[u, :]`` for the ``step_classes`` that are labels.

        Args:
            step_classes: Sorted class indices of the step (the estimator's may include classes
                without a row here: the ignore bucket, or other ranks' labels).
            cov: Their stored covariances ``M`` ``(k, A, A)``, or ``(A, A)`` for a step of one
                class (detached; no autograd here).
            scale: Their factors ``a``: a float for a one-class step, ``(k,)`` float32 else;
                None for 1.
        """
        if cov.dim() == 2:
            # One class per step (CPUs): per-label views made once, one product per class.
            position = self.position.get(step_classes[0])
            if position is None:
                return
            if self._views is None:
                # Runs whose D_u and P_u stay in the L2 cache (_CACHED_ELEMENTS each).
                self.run = max(1, min(self.table.size(0),
                                      _CACHED_ELEMENTS // self.weight.numel()))
                self.diffs = self.weight.new_empty(self.run, *self.weight.shape)
                self._diff_views = self.diffs.unbind(0)
                self._views = self.projected.unbind(0)
            # D_u for a run of consecutive labels at its first visit, their row sums at its
            # last: two calls per run instead of two per class (labels are visited in order).
            first = position - position % self.run
            last = min(first + self.run, self.table.size(0))
            if position == first:
                torch.sub(self.diff_rows[0], self.diff_rows[1][first:last],
                          out=self.diffs[:last - first])
            projected = self._views[position]
            torch.addmm(projected, self._diff_views[position - first], cov, beta=0,
                        alpha=1.0 if scale is None else scale, out=projected)
            if position == last - 1:
                torch.linalg.vecdot(self.projected[first:last], self.diffs[:last - first],
                                    out=self.table[first:last])
            return
        hits = [i for i, c in enumerate(step_classes) if c in self.position]
        if not hits:
            return
        if len(hits) < len(step_classes):
            cov = cov[hits]
            scale = None if scale is None else scale[hits]
        # Both lists are sorted and the labels a subset, so the hits are consecutive rows here.
        first = self.position[step_classes[hits[0]]]
        part = slice(first, first + len(hits))
        diff = self.diff_rows[0] - self.diff_rows[1][part]                     # D_u, (k, C, A)
        projected = torch.bmm(diff, cov, out=self.projected[part])
        if scale is not None:
            projected.mul_(scale.view(-1, 1, 1))
        torch.linalg.vecdot(projected, diff, out=self.table[part])

    def rows(self) -> torch.Tensor:
        """``S[classes, :]`` ``(U, C)`` with its gradient into the weight (after all visits)."""
        return _FullCovRows.apply(self.weight, self.table, self.projected, self.classes)


def isda_label_rows(weight: torch.Tensor, cov: torch.Tensor,
                    classes: torch.Tensor) -> torch.Tensor:
    """Rows ``S[classes, :]`` of ``S[c, j] = (w_j − w_c)ᵀ Σ_c (w_j − w_c)``.

    Args:
        weight: Classifier weight ``(C, A)``; gradients flow into it.
        cov: Covariances, ``(C', A, A)`` (full) or ``(C', A)`` (diagonal), ``C' ≥ C``; detached.
        classes: Distinct class indices ``(U,)`` in ``[0, C)``, sorted ascending.

    Returns:
        ``(U, C)`` float32, zero at ``S[c, c]``. Costs ``U·C·A²`` (full) or ``2·U·C·A`` (diagonal)
        multiply-adds.
    """
    weight = weight.float()
    cov = cov.detach()
    if cov.dim() == 3:
        builder = _FullCovRowBuilder(weight, classes)
        step_classes = classes.tolist()
        if classes.device.type in _PER_CLASS_DEVICES:
            states = cov.unbind(0)
            for c in step_classes:
                builder.visit([c], states[c])
        else:
            for part, sel in _class_parts(classes, cov.size(1)**2 + 2 * weight.numel()):
                builder.visit(step_classes[part], cov[sel])
        return builder.rows()
    return _DiagCovRows.apply(weight, cov[classes], classes)


def _add_rows(logits: torch.Tensor, rows: torch.Tensor, slot: torch.Tensor, ratio: float,
              valid: Optional[torch.Tensor]) -> torch.Tensor:
    """``z + (λ/2)·S[y]``: ``slot`` indexes ``rows`` for the valid samples."""
    if valid is None:
        return logits.add(rows.index_select(0, slot), alpha=0.5 * ratio)
    # Ignored samples gather a zero row.
    table = torch.cat([rows, rows.new_zeros(1, rows.size(1))])
    index = torch.full_like(valid, rows.size(0), dtype=torch.long)
    index[valid] = slot
    return logits + (0.5 * ratio) * table[index]


def isda_augment(logits: torch.Tensor,
                 weight: torch.Tensor,
                 cov: torch.Tensor,
                 labels: torch.Tensor,
                 ratio: float,
                 valid: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Augmented logits ``z̃ = z + (λ/2)·S[y]`` (spec §3.2-3.3).

    Args:
        logits: ``(N, C)``.
        weight: Classifier weight ``(C, A)``.
        cov: Class covariances ``(C', A, A)`` or ``(C', A)``, ``C' ≥ C``.
        labels: ``(N,)`` int64; entries where ``valid`` is False are ignored.
        ratio: ``λ``.
        valid: Optional ``(N,)`` bool mask; invalid samples keep ``z̃ = z``.

    Returns:
        ``(N, C)`` float32 augmented logits.
    """
    logits = logits.float()
    if ratio == 0:
        return logits
    with torch.autocast(logits.device.type, enabled=False):
        classes, slot = torch.unique(labels if valid is None else labels[valid],
                                     return_inverse=True)
        return _add_rows(logits, isda_label_rows(weight, cov, classes), slot, ratio, valid)


@MODELS.register_module()
class ISDAEstimator(nn.Module):
    """Online class-conditional mean and covariance of the deep features (spec §4).

    The exact pooled merge of the official code: per class ``c`` with ``m`` samples in the batch,
    batch mean ``μ'`` and **biased** batch covariance ``Σ'``, and ``w = m / (m + n)``,

        Σ ← (1 − w) Σ + w Σ' + w (1 − w) (μ − μ')(μ − μ')ᵀ,   μ ← (1 − w) μ + w μ',   n ← n + m.

    Counts are never reset; classes absent from the batch are not touched. The state lives in
    buffers, so it is part of ``state_dict`` and therefore of mmengine checkpoints.

    Full covariances defer the factor ``1 − w``: the stored tensor is ``M_c = Σ_c / a_c`` with a
    per-class factor ``a_c`` (buffer ``cov_scale``, not saved), so that a training update passes
    over each ``A × A`` state once, in the product that accumulates the batch into it, instead of
    scaling it first (see :meth:`_update_full`). ``Σ`` itself is what the outside sees: the
    ``cov`` property and ``state_dict`` (hence checkpoints) fold the factors into the stored
    tensor first (``M ← a M``, ``a ← 1``; one pass, only after a training update). As saving
    folds the live state too, a run that saved a checkpoint and a run resumed from it continue
    from the same stored tensor: resuming is bit-exact. Loading a state dict sets ``a = 1``.

    Args:
        num_classes: Number of classes ``C`` (segmentation adds the ignore bucket itself, see
            :class:`ISDALoss`).
        feature_dim: Feature width ``A``.
        covariance: ``'full'`` (``Σ`` is ``(C, A, A)``: the CIFAR recipe) or ``'diagonal'``
            (``(C, A)``: ImageNet, Cityscapes).
        sync: ``'all_reduce'`` (default): in distributed training the per-class counts, sums and
            centred scatter matrices of all ranks are summed before the merge, so every rank
            holds the estimator of the global batch. ``'per_rank'``: each rank keeps its own
            estimator from its sub-batch, as the official ImageNet code does (then wrap the model
            with ``broadcast_buffers=False``, otherwise DDP overwrites it with rank 0's).

    Buffers:
        mean: ``(C, A)`` float32. cov: ``(C, A, A)`` or ``(C, A)`` float32 (read as ``Σ`` through
        the ``cov`` property). count: ``(C,)`` int64. Full covariance only, not saved: cov_scale
        ``(C,)`` float64, the factors ``a``.
    """

    def __init__(self,
                 num_classes: int,
                 feature_dim: int,
                 covariance: str = 'full',
                 sync: str = 'all_reduce') -> None:
        super().__init__()
        if covariance not in ('full', 'diagonal'):
            raise ValueError(f"covariance must be 'full' or 'diagonal', got {covariance!r}")
        if sync not in ('all_reduce', 'per_rank'):
            raise ValueError(f"sync must be 'all_reduce' or 'per_rank', got {sync!r}")
        if num_classes < 1 or feature_dim < 1:
            raise ValueError(f'need num_classes >= 1 and feature_dim >= 1, got {num_classes}, '
                             f'{feature_dim}')
        self.num_classes = num_classes
        self.feature_dim = feature_dim
        self.covariance = covariance
        self.sync = sync
        cov_shape = (num_classes, feature_dim) + ((feature_dim, ) if covariance == 'full' else ())
        self.register_buffer('mean', torch.zeros(num_classes, feature_dim))
        # ``cov`` is a property (it folds the deferred factors), and ``register_buffer`` refuses a
        # name the class defines, so the (persistent) buffer is entered directly.
        self._buffers['cov'] = torch.zeros(cov_shape)
        self.register_buffer('count', torch.zeros(num_classes, dtype=torch.long))
        if covariance == 'full':
            self.register_buffer('cov_scale', torch.ones(num_classes, dtype=torch.float64),
                                 persistent=False)

    @property
    def cov(self) -> torch.Tensor:
        """Class covariances ``Σ``, ``(C, A, A)`` or ``(C, A)`` (folds the deferred factors)."""
        self.fold_scale_()
        return self._buffers['cov']

    @torch.no_grad()
    def fold_scale_(self) -> None:
        """Make the stored tensor ``Σ`` itself: ``M ← a M``, ``a ← 1`` (full covariance)."""
        if self.covariance == 'full' and bool((self.cov_scale != 1).any()):
            self._buffers['cov'].mul_(self.cov_scale.float().view(-1, 1, 1))
            self.cov_scale.fill_(1)

    def _save_to_state_dict(self, destination, prefix, keep_vars) -> None:
        self.fold_scale_()                                  # checkpoints hold Σ
        super()._save_to_state_dict(destination, prefix, keep_vars)

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        if self.covariance == 'full':
            self.cov_scale.fill_(1)                         # the loaded tensor is Σ

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, feature_dim={self.feature_dim}, '
                f'covariance={self.covariance!r}, sync={self.sync!r}')

    def _reduce(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.sync == 'all_reduce' and dist.get_world_size() > 1:
            dist.all_reduce(tensor, op='sum')
        return tensor

    def check_inputs(self, features: torch.Tensor, labels: torch.Tensor,
                     classes: Optional[torch.Tensor] = None) -> None:
        """Raise a clear error for features of the wrong width or labels out of range.

        ``classes``, the sorted distinct labels where the caller has them, spares a reduction.
        """
        if features.dim() != 2 or features.size(1) != self.feature_dim:
            raise ValueError(
                f'ISDA expects features of shape (N, {self.feature_dim}) (the input of the '
                f'classifier), got {tuple(features.shape)}')
        if labels.shape != features.shape[:1]:
            raise ValueError(f'labels must have shape ({features.size(0)},), got '
                             f'{tuple(labels.shape)}')
        if labels.dtype not in (torch.int64, torch.int32, torch.uint8, torch.int16, torch.int8):
            raise ValueError(f'labels must be integer class indices, got {labels.dtype}')
        if labels.numel():
            ends = classes[[0, -1]] if classes is not None else torch.stack(torch.aminmax(labels))
            low, high = ends.tolist()
            if low < 0 or high >= self.num_classes:
                raise ValueError(f'labels must lie in [0, {self.num_classes}), got values in '
                                 f'[{low}, {high}]')

    def update(self,
               features: torch.Tensor,
               labels: torch.Tensor,
               on_merge: Optional[_OnMerge] = None) -> None:
        """Merge a batch into the statistics.

        Args:
            features: ``(N, A)``; detached and promoted to float32 here.
            labels: ``(N,)`` in ``[0, C)``.
            on_merge: Full covariance only: called after each step of the merge with the step's
                sorted class indices, their merged stored covariances ``M`` and their factors
                ``a`` (``Σ = a M``): ``(A, A)`` and a float for a step of one class (CPUs),
                ``(k, A, A)`` and ``(k,)`` float32 else (a view of the state or a copy), so that
                a consumer reads them while they are in cache (:class:`ISDALoss`
                builds the rows of ``S`` there).
        """
        self.check_inputs(features, labels)
        self._update(features, labels, on_merge)

    @torch.no_grad()
    def _update(self, features: torch.Tensor, labels: torch.Tensor,
                on_merge: Optional[_OnMerge],
                grouping: Optional[Tuple[torch.Tensor, ...]] = None) -> None:
        """:meth:`update` for inputs that passed :meth:`check_inputs`.

        ``grouping``: ``torch.unique(labels, return_inverse=True, return_counts=True)`` where the
        caller has it.
        """
        # The statistics stay float32 under AMP (spec §9, pitfall 8).
        with torch.autocast(features.device.type, enabled=False):
            self._merge(features.detach().float(), labels.long(), on_merge, grouping)

    def _merge(self, feats: torch.Tensor, labels: torch.Tensor, on_merge: Optional[_OnMerge],
               grouping: Optional[Tuple[torch.Tensor, ...]]) -> None:
        num, dim = self.num_classes, self.feature_dim
        if self.sync == 'all_reduce' and dist.get_world_size() > 1:
            counts = self._reduce(torch.bincount(labels, minlength=num))
            present = counts.nonzero().squeeze(1)                 # (U,), identical on all ranks
            slot = torch.empty(num, dtype=torch.long, device=feats.device)
            slot[present] = torch.arange(present.numel(), device=feats.device)
            slot = slot[labels]
            m = counts[present]
        else:
            present, slot, m = grouping if grouping is not None else torch.unique(
                labels, return_inverse=True, return_counts=True)
        if present.numel() == 0:
            return
        sizes = m.tolist()
        # Weights from the exact integer counts in Python floats (float64), so that huge pixel
        # counts stay exact, with one call instead of a few on (U,) tensors.
        keep = [n_u / (m_u + n_u) for m_u, n_u in
                zip(sizes, self.count.index_select(0, present).tolist())]
        w = torch.tensor([1 - k for k in keep], device=feats.device)
        sums = self._reduce(feats.new_zeros(present.numel(), dim).index_add_(0, slot, feats))
        batch_mean = sums / m.unsqueeze(1)                        # (U, A)
        mean = self.mean.index_select(0, present)
        delta = mean - batch_mean                                 # (U, A)
        if self.covariance == 'diagonal':
            centred = feats - batch_mean[slot]
            scatter = self._reduce(feats.new_zeros(present.numel(), dim).index_add_(
                0, slot, centred * centred))
            cov = self._buffers['cov']
            cov[present] = (cov[present] * (1 - w).unsqueeze(1) +
                            scatter * (w / m.float()).unsqueeze(1) +
                            delta * delta * (w * (1 - w)).unsqueeze(1))
        else:
            self._update_full(feats, present, slot, batch_mean, delta, sizes, keep, on_merge)
        # (1 − w) μ + w μ', exact at w = 1.
        self.mean.index_copy_(0, present, torch.lerp(mean, batch_mean, w.unsqueeze(1)))
        self.count.index_add_(0, present, m)

    def _update_full(self, feats: torch.Tensor, present: torch.Tensor, slot: torch.Tensor,
                     batch_mean: torch.Tensor, delta: torch.Tensor, sizes: List[int],
                     keep: List[float], on_merge: Optional[_OnMerge]) -> None:
        """Full-covariance merge: one product per class (CPU) or per step of classes (GPU).

        Class ``u`` with ``m`` batch rows ``x_i`` is packed as ``Y = [Δ; x_1 − μ'; ...]`` with
        row weights ``s = (w(1 − w), w/m, ..., w/m)``, so the merge is
        ``Σ ← (1 − w) Σ + Yᵀ diag(s) Y``. With ``Σ = a M`` stored as ``M`` this is
        ``a ← (1 − w) a`` and ``M ← M + α Ỹᵀ Ỹ`` with ``α = w / (m a)`` and
        ``Ỹ = [√((1 − w) m) Δ; x_1 − μ'; ...]`` (``α Ỹᵀ Ỹ = Yᵀ diag(s / a) Y``): one
        ``A × (1 + m) × A`` product that accumulates into the state with ``α`` as its scalar
        factor, ``(N + U)·A²`` multiply-adds in all, and no scaling pass over the state or the
        batch (batched steps scale their packed rows by ``√α`` instead). Where ``a`` falls below
        ``_MIN_SCALE`` (and at a class's first update, where ``w = 1`` makes it 0) it is folded
        first: ``M ← a M``, ``a ← 1``; on CPUs also for classes with fewer than 4 batch samples
        (see ``_FOLD_EVERY_MERGE``). The blocks ``Ỹ`` lie back to back on CPUs; batched steps
        zero-pad them to the widest class of the step. The state of absent classes is not read.
        With ``sync='all_reduce'`` the products ``α Ỹᵀ Ỹ`` are summed over ranks before they
        are divided by ``a`` (``α`` then leaves out ``1 / a``; ranks may store ``Σ`` with
        different factors: only ranks that save a checkpoint fold); the ``Δ`` row (the same on
        every rank, from global statistics) is carried by rank 0 only, and every rank visits
        every globally present class (with its local rows, maybe none), so that all ranks run
        the same reductions.

        Args:
            sizes: ``m`` of each class.
            keep: ``1 − w`` of each class, from the exact counts.
        """
        reducing = self.sync == 'all_reduce' and dist.get_world_size() > 1
        classes = present.tolist()
        # Per-class scalars in Python floats (float64): a handful per class, where tensor ops on
        # (U,) vectors would cost a call each.
        min_rows = _FOLD_EVERY_MERGE.get(feats.device.type, 0)
        delta_rows = dist.get_rank() == 0 if reducing else True
        folds, factors, scales, alphas, shifts = [], [], [], [], []
        for a, kept, m_u in zip(self.cov_scale.index_select(0, present).tolist(), keep, sizes):
            a *= kept
            w_u = 1 - kept
            fold = a < _MIN_SCALE or m_u < min_rows
            folds.append(fold)
            factors.append(a if fold else 1.0)                   # the folds' M ← a M
            a = 1.0 if fold else a
            scales.append(a)
            alphas.append(w_u / m_u / (1.0 if reducing else a))
            shifts.append(math.sqrt(kept * m_u) if delta_rows else 0.0)
        self.cov_scale.index_copy_(0, present, torch.tensor(scales, dtype=torch.float64,
                                                            device=feats.device))
        # The batch sorted by class: the rows of class k are the sorted samples
        # [start_k, start_k + n_k) (n_k local samples: all_reduce leaves some classes without).
        local = torch.bincount(slot, minlength=len(classes)).tolist() if reducing else sizes
        sorted_slot, order = slot.sort(stable=True)
        centred = feats.index_select(0, order).sub_(batch_mean.index_select(0, sorted_slot))
        shift_rows = delta * torch.tensor(shifts, device=feats.device).unsqueeze(1)
        sorted_index = torch.arange(feats.size(0), device=feats.device)
        cov = self._buffers['cov']
        if feats.device.type in _PER_CLASS_DEVICES:
            # Blocks [Δ; x − μ'] of 1 + n_k rows, back to back (no padding to fill): the sorted
            # sample i of class k goes to row i + k + 1.
            packed = feats.new_empty(feats.size(0) + len(classes), feats.size(1))
            packed.index_copy_(0, sorted_index.add_(sorted_slot).add_(1), centred)
            heads = list(itertools.accumulate((1 + n_k for n_k in local[:-1]), initial=0))
            packed.index_copy_(0, torch.tensor(heads, device=feats.device), shift_rows)
            # Views made once: Python-level calls, not arithmetic, bound the small steps.
            states, blocks = cov.unbind(0), packed.split([1 + n_k for n_k in local])
            for k, c in enumerate(classes):
                state, rows = states[c], blocks[k]
                if folds[k]:
                    state.mul_(factors[k])
                if reducing:
                    state.add_(self._reduce((rows.t() @ rows).mul_(alphas[k])).div_(scales[k]))
                else:
                    state.addmm_(rows.t(), rows, alpha=alphas[k])
                if on_merge is not None:
                    on_merge([c], state, scales[k])
            return
        # Blocks zero-padded to the widest class, for batched products: row 0 holds Δ, the sorted
        # sample i of class k goes to row 1 + i − start_k.
        starts = torch.tensor(list(itertools.accumulate(local[:-1], initial=0)),
                              device=feats.device)
        packed = feats.new_zeros(len(classes), 1 + max(local), feats.size(1))
        packed[:, 0] = shift_rows
        packed[sorted_slot, sorted_index.sub_(starts[sorted_slot]).add_(1)] = centred
        factor = torch.tensor(factors, device=feats.device).view(-1, 1, 1)
        scale = torch.tensor(scales, device=feats.device)
        packed.mul_(torch.tensor(alphas, device=feats.device).sqrt_().view(-1, 1, 1))
        for part, sel in _class_parts(present, feats.size(1) * (3 * feats.size(1) + 1)):
            rows = packed[part, :1 + max(local[part])]
            state = cov[sel]
            if any(folds[part]):
                state.mul_(factor[part])
            if reducing:
                state.add_(self._reduce(torch.bmm(rows.transpose(1, 2), rows)).div_(
                    scale[part].view(-1, 1, 1)))
            else:
                state.baddbmm_(rows.transpose(1, 2), rows)
            cov[sel] = state                           # a gathered copy, not a view
            if on_merge is not None:
                on_merge(classes[part], state, scale[part])


@MODELS.register_module()
class ISDALoss(nn.Module):
    """The ISDA surrogate loss with its estimator and ``λ = λ0·t/T`` schedule.

    Call :meth:`augment` from a head to get augmented logits for the head's own loss module (it
    updates the estimator first, as in the official code: features → logits → update → ``z̃``
    from the updated ``Σ``), or call the module to get the cross-entropy on them.

    Args:
        num_classes: Number of classes ``C`` (rows of the classifier).
        feature_dim: Feature width ``A`` (columns of the classifier).
        lambda0: ``λ0``. The paper's values: 0.5 for full covariances (CIFAR), 7.5 for
            diagonal ones (ImageNet ResNets, Cityscapes); they do not transfer between the two.
        covariance: ``'full'`` or ``'diagonal'``.
        schedule: ``'epoch'``: ``λ = λ0·epoch/max_epochs`` with the 0-based epoch (classification,
            needs an epoch-based loop); ``'iter'``: ``λ = λ0·iter/max_iters`` with the 1-based
            iteration (segmentation); ``'constant'``: ``λ = λ0`` (ablations, benchmarks). The
            progress is read from the runner's ``MessageHub``, never passed by hand.
        ignore_index: Label of samples that carry no class (segmentation's 255). They go to an
            extra estimator bucket ``C`` (as in the official Cityscapes code) and keep ``z̃ = z``.
        sync: Estimator synchronisation, see :class:`ISDAEstimator`.
    """

    def __init__(self,
                 num_classes: int,
                 feature_dim: int,
                 lambda0: float,
                 covariance: str = 'full',
                 schedule: str = 'epoch',
                 ignore_index: Optional[int] = None,
                 sync: str = 'all_reduce') -> None:
        super().__init__()
        if schedule not in ('epoch', 'iter', 'constant'):
            raise ValueError(f"schedule must be 'epoch', 'iter' or 'constant', got {schedule!r}")
        if lambda0 < 0:
            raise ValueError(f'lambda0 must be >= 0, got {lambda0}')
        self.num_classes = num_classes
        self.lambda0 = float(lambda0)
        self.schedule = schedule
        self.ignore_index = ignore_index
        self.estimator = ISDAEstimator(
            num_classes + (ignore_index is not None), feature_dim, covariance=covariance,
            sync=sync)
        self._logged = False

    def extra_repr(self) -> str:
        return (f'lambda0={self.lambda0}, schedule={self.schedule!r}, '
                f'ignore_index={self.ignore_index}')

    @property
    def ratio(self) -> float:
        """Current ``λ``."""
        if self.schedule == 'constant':
            return self.lambda0
        step, total = runner_progress(self.schedule)
        return self.lambda0 * step / total

    def augment(self, features: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor,
                classifier: Union[nn.Module, torch.Tensor]) -> torch.Tensor:
        """Update the estimator (in training mode) and return augmented logits.

        Args:
            features: ``(N, A)``: exactly the tensor the classifier was applied to.
            logits: ``(N, C)`` = ``classifier(features)``.
            labels: ``(N,)`` int64 in ``[0, C)`` (or ``ignore_index``).
            classifier: The linear classifier (see :func:`classifier_weight`).

        Returns:
            ``(N, C)`` float32 ``z̃``.
        """
        weight = classifier_weight(classifier)
        if weight.shape != (self.num_classes, self.estimator.feature_dim):
            raise ValueError(
                f'classifier weight has shape {tuple(weight.shape)}, ISDA was built for '
                f'({self.num_classes}, {self.estimator.feature_dim})')
        if logits.shape != (features.size(0), self.num_classes):
            raise ValueError(f'logits must have shape ({features.size(0)}, {self.num_classes}), '
                             f'got {tuple(logits.shape)}')
        valid = None
        bucket_labels = labels
        if self.ignore_index is not None:
            valid = labels != self.ignore_index
            bucket_labels = labels.masked_fill(~valid, self.num_classes)
            if bool((labels[valid] >= self.num_classes).any()):
                raise ValueError(
                    f'labels must lie in [0, {self.num_classes}) or equal ignore_index='
                    f'{self.ignore_index}, got a label >= {self.num_classes}')
        # One grouping of the labels serves the range check, the merge and the rows of S.
        grouping = (torch.unique(bucket_labels, return_inverse=True, return_counts=True)
                    if self.training else None)
        self.estimator.check_inputs(features, bucket_labels,
                                    None if grouping is None else grouping[0])
        ratio = self.ratio
        builder = None
        if self.training and ratio != 0 and self.estimator.covariance == 'full':
            # The rows of S are built inside the merge, while each updated Σ_u is in cache.
            classes, slot, _ = grouping
            if valid is not None:
                # The ignore bucket C sorts last: the other classes keep their slots.
                classes, slot = classes[classes < self.num_classes], slot[valid]
            builder = _FullCovRowBuilder(weight.float(), classes)
        if self.training:
            self.estimator._update(features, bucket_labels, builder.visit if builder else None,
                                   grouping)
            if not self._logged:
                print_log(f'ISDA: {self.estimator.extra_repr()}, {self.extra_repr()}',
                          logger='current')
                self._logged = True
        if ratio == 0:
            return logits.float()
        if builder is None:
            return isda_augment(logits, weight, self.estimator.cov, labels, ratio, valid)
        rows = builder.rows()
        return _add_rows(logits.float(), rows, slot, ratio, valid)

    def forward(self, features: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor,
                classifier: Union[nn.Module, torch.Tensor]) -> torch.Tensor:
        """Mean cross-entropy on :meth:`augment`'s logits (ignored samples excluded)."""
        aug = self.augment(features, logits, labels, classifier)
        ignore = -100 if self.ignore_index is None else self.ignore_index
        return F.cross_entropy(aug, labels, ignore_index=ignore)
