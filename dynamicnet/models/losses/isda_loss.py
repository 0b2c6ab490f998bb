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
from typing import List, Optional, Tuple, Union

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
# Devices where one class per step (views of the state, no gathered copies) is faster.
_PER_CLASS_DEVICES = ('cpu', )


def _class_parts(classes: torch.Tensor,
                 per_class: int) -> List[Tuple[slice, Union[slice, torch.Tensor]]]:
    """Steps over the distinct classes of the full-covariance paths.

    Returns ``(positions, selector)`` pairs: ``positions`` slices ``classes``, ``selector`` indexes
    the ``(C, A, A)`` state. On GPUs a step covers up to ``_CHUNK_ELEMENTS / per_class`` classes
    (a gathered copy); on CPUs one class, as a ``c:c+1`` view that is read and updated in place,
    because there memory traffic, not launches, dominates.
    """
    if classes.device.type in _PER_CLASS_DEVICES:
        return [(slice(k, k + 1), slice(c, c + 1)) for k, c in enumerate(classes.tolist())]
    step = max(1, _CHUNK_ELEMENTS // max(per_class, 1))
    return [(slice(i, i + step), classes[i:i + step]) for i in range(0, classes.numel(), step)]


class _FullCovRows(torch.autograd.Function):
    """``S[u, :]`` for full covariances; the backward reuses ``P_c = D_c Σ_c``.

    ``S[c, j] = d_jᵀ Σ_c d_j`` with ``D_c = W − 1·w_cᵀ`` gives ``∂S[c, j]/∂d_j = 2 Σ_c d_j`` (``Σ``
    symmetric), i.e. ``2 P_c[j]``: the backward needs no second ``C·A²`` matmul per class.
    """

    @staticmethod
    def forward(ctx, weight: torch.Tensor, cov: torch.Tensor, classes: torch.Tensor):
        num, dim = weight.shape
        rows = weight.new_empty(classes.numel(), num)
        projected = weight.new_empty(classes.numel(), num, dim)
        for part, sel in _class_parts(classes, dim * dim + 2 * num * dim):
            diff = weight.unsqueeze(0) - weight[classes[part]].unsqueeze(1)   # (k, C, A)
            torch.bmm(diff, cov[sel], out=projected[part])
            rows[part] = (projected[part] * diff).sum(-1)
        ctx.save_for_backward(projected, classes)
        return rows

    @staticmethod
    def backward(ctx, grad_rows: torch.Tensor):
        projected, classes = ctx.saved_tensors
        # dL/dD_c = 2 g_c ⊙ P_c; D_c = W − w_c, so W gets Σ_c dL/dD_c and w_c loses its row sum.
        grad_diff = projected * (2 * grad_rows.unsqueeze(-1))
        grad_weight = grad_diff.sum(0)
        grad_weight.index_add_(0, classes, grad_diff.sum(1), alpha=-1)
        return grad_weight, None, None


def isda_label_rows(weight: torch.Tensor, cov: torch.Tensor,
                    classes: torch.Tensor) -> torch.Tensor:
    """Rows ``S[classes, :]`` of ``S[c, j] = (w_j − w_c)ᵀ Σ_c (w_j − w_c)``.

    Args:
        weight: Classifier weight ``(C, A)``; gradients flow into it.
        cov: Covariances, ``(C', A, A)`` (full) or ``(C', A)`` (diagonal), ``C' ≥ C``; detached.
        classes: Distinct class indices ``(U,)`` in ``[0, C)``.

    Returns:
        ``(U, C)`` float32, zero at ``S[c, c]``. Costs ``U·C·A²`` (full) or ``2·U·C·A`` (diagonal)
        multiply-adds.
    """
    weight = weight.float()
    cov = cov.detach()
    if cov.dim() == 3:
        return _FullCovRows.apply(weight, cov, classes)
    var = cov[classes]                                            # (U, A)
    w_u = weight[classes]                                         # (U, A)
    # Σ_a V[c,a] (W[j,a] − W[c,a])² expanded into one (U, 2A) @ (2A, C) product.
    left = torch.cat([var, -2 * var * w_u], dim=1)
    right = torch.cat([weight * weight, weight], dim=1)
    rows = left @ right.t() + (var * w_u * w_u).sum(1, keepdim=True)
    # The expansion cancels only up to rounding at j = c; the target logit must stay exact.
    return rows.scatter(1, classes.unsqueeze(1), 0.0)


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
        rows = isda_label_rows(weight, cov, classes)
        if valid is None:
            return logits + (0.5 * ratio) * rows[slot]
        # Ignored samples gather a zero row.
        table = torch.cat([rows, rows.new_zeros(1, rows.size(1))])
        index = torch.full_like(labels, classes.numel())
        index[valid] = slot
        return logits + (0.5 * ratio) * table[index]


@MODELS.register_module()
class ISDAEstimator(nn.Module):
    """Online class-conditional mean and covariance of the deep features (spec §4).

    The exact pooled merge of the official code: per class ``c`` with ``m`` samples in the batch,
    batch mean ``μ'`` and **biased** batch covariance ``Σ'``, and ``w = m / (m + n)``,

        Σ ← (1 − w) Σ + w Σ' + w (1 − w) (μ − μ')(μ − μ')ᵀ,   μ ← (1 − w) μ + w μ',   n ← n + m.

    Counts are never reset; classes absent from the batch are not touched. The state lives in
    buffers, so it is part of ``state_dict`` and therefore of mmengine checkpoints.

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
        mean: ``(C, A)`` float32. cov: ``(C, A, A)`` or ``(C, A)`` float32. count: ``(C,)`` int64.
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
        self.register_buffer('cov', torch.zeros(cov_shape))
        self.register_buffer('count', torch.zeros(num_classes, dtype=torch.long))

    def extra_repr(self) -> str:
        return (f'num_classes={self.num_classes}, feature_dim={self.feature_dim}, '
                f'covariance={self.covariance!r}, sync={self.sync!r}')

    def _reduce(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.sync == 'all_reduce' and dist.get_world_size() > 1:
            dist.all_reduce(tensor, op='sum')
        return tensor

    def check_inputs(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Raise a clear error for features of the wrong width or labels out of range."""
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
            low, high = torch.stack([labels.min(), labels.max()]).tolist()
            if low < 0 or high >= self.num_classes:
                raise ValueError(f'labels must lie in [0, {self.num_classes}), got values in '
                                 f'[{low}, {high}]')

    @torch.no_grad()
    def update(self, features: torch.Tensor, labels: torch.Tensor) -> None:
        """Merge a batch into the statistics.

        Args:
            features: ``(N, A)``; detached and promoted to float32 here.
            labels: ``(N,)`` in ``[0, C)``.
        """
        self.check_inputs(features, labels)
        feats = features.detach().float()
        labels = labels.long()
        num, dim = self.num_classes, self.feature_dim
        counts = self._reduce(torch.bincount(labels, minlength=num))
        sums = self._reduce(feats.new_zeros(num, dim).index_add_(0, labels, feats))
        present = counts.nonzero().squeeze(1)                     # (U,), identical on all ranks
        if present.numel() == 0:
            return
        m = counts[present]
        n = self.count[present]
        # Weights from exact integer counts (float64) so that huge pixel counts stay exact.
        w = (m.double() / (m + n).double()).float()
        batch_mean = sums[present] / m.unsqueeze(1).float()       # (U, A)
        slot = torch.empty(num, dtype=torch.long, device=feats.device)
        slot[present] = torch.arange(present.numel(), device=feats.device)
        slot = slot[labels]
        centred = feats - batch_mean[slot]                        # (N, A)
        delta = self.mean[present] - batch_mean                   # (U, A)
        if self.covariance == 'diagonal':
            scatter = self._reduce(feats.new_zeros(present.numel(), dim).index_add_(
                0, slot, centred * centred))
            self.cov[present] = (self.cov[present] * (1 - w).unsqueeze(1) +
                                 scatter * (w / m.float()).unsqueeze(1) +
                                 delta * delta * (w * (1 - w)).unsqueeze(1))
        else:
            self._update_full(present, slot, centred, delta, m, w)
        self.mean[present] = (self.mean[present] * (1 - w).unsqueeze(1) +
                              batch_mean * w.unsqueeze(1))
        self.count[present] += m

    def _update_full(self, present: torch.Tensor, slot: torch.Tensor, centred: torch.Tensor,
                     delta: torch.Tensor, m: torch.Tensor, w: torch.Tensor) -> None:
        """Full-covariance merge with batched products over steps of present classes.

        The class-``c`` rows of the centred batch are packed into a zero-padded
        ``(U, max_m, A)`` tensor, so ``Σ_i x_i x_iᵀ`` of every class is one batched product
        (``U·max_m·A²`` multiply-adds, ``N·A²`` without padding); the state of absent classes is
        not read. With ``sync='all_reduce'`` the scatter about the global batch mean is summed
        over ranks before the merge (the padding uses the global ``max_m`` so that all ranks run
        the same chunks).
        """
        num_present, dim = delta.shape
        order = torch.argsort(slot, stable=True)
        sorted_slot = slot[order]
        local = torch.bincount(slot, minlength=num_present)
        position = torch.arange(slot.numel(), device=slot.device) - (
            torch.cumsum(local, 0) - local)[sorted_slot]
        width = int(m.max())
        packed = centred.new_zeros(num_present, width, dim)
        packed[sorted_slot, position] = centred[order]
        keep, share, shift = (1 - w).view(-1, 1, 1), (w / m.float()).view(-1, 1, 1), (
            w * (1 - w)).view(-1, 1, 1)
        for part, sel in _class_parts(present, dim * dim * 3 + width * dim):
            rows = packed[part]
            # share = w/m is the global weight, so scaling before the sum over ranks is exact.
            scatter = self._reduce(torch.bmm(rows.transpose(1, 2) * share[part], rows))
            merged = self.cov[sel].mul_(keep[part]).add_(scatter)
            diff = delta[part].unsqueeze(2)
            merged.baddbmm_(diff * shift[part], diff.transpose(1, 2))
            if isinstance(sel, torch.Tensor):          # a gathered copy, not a view
                self.cov[sel] = merged


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
        if self.training:
            self.estimator.update(features, bucket_labels)
            if not self._logged:
                print_log(f'ISDA: {self.estimator.extra_repr()}, {self.extra_repr()}',
                          logger='current')
                self._logged = True
        else:
            self.estimator.check_inputs(features, bucket_labels)
        return isda_augment(logits, weight, self.estimator.cov, labels, self.ratio, valid)

    def forward(self, features: torch.Tensor, logits: torch.Tensor, labels: torch.Tensor,
                classifier: Union[nn.Module, torch.Tensor]) -> torch.Tensor:
        """Mean cross-entropy on :meth:`augment`'s logits (ignored samples excluded)."""
        aug = self.augment(features, logits, labels, classifier)
        ignore = -100 if self.ignore_index is None else self.ignore_index
        return F.cross_entropy(aug, labels, ignore_index=ignore)
