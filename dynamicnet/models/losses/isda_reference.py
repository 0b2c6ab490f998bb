# Copyright (c) dynamicnet contributors. All rights reserved.
"""The official per-sample ISDA formulation, kept as the reference for tests and the benchmark.

A device-agnostic transcription of ``EstimatorCV``/``ISDALoss`` of the official code
(``blackfeather-wang/ISDA-for-Deep-Networks`` at ``b66a594``): the CIFAR version (full
covariance, ``N×C×A`` one-hot expansions, ``C×A×A`` batch covariances, ``N×A×A`` gathered ``Σ[y]``
and an ``N×C×C`` product whose diagonal is kept) and the ImageNet/Cityscapes version (diagonal
covariance, ``N×C×A`` temporaries). It is **not** used for training: :mod:`.isda_loss` computes
the same numbers once per distinct label. Only ``.cuda()`` calls were replaced by the input's
device; the arithmetic, including the ``0/0 → 0`` weight guard, is unchanged.
"""
import torch
import torch.nn.functional as F

__all__ = ['ReferenceISDAEstimator', 'reference_isda_aug', 'reference_isda_loss']


class ReferenceISDAEstimator:
    """The official ``EstimatorCV`` (attributes ``CoVariance``, ``Ave``, ``Amount``).

    Args:
        feature_num: ``A``.
        class_num: ``C``.
        covariance: ``'full'`` (CIFAR code) or ``'diagonal'`` (ImageNet/Cityscapes code).
        device: Where the state lives.
        dtype: Floating type of the state.
    """

    def __init__(self, feature_num: int, class_num: int, covariance: str = 'full',
                 device='cpu', dtype=torch.float32) -> None:
        self.class_num = class_num
        self.covariance = covariance
        shape = (class_num, feature_num, feature_num) if covariance == 'full' else (
            class_num, feature_num)
        self.CoVariance = torch.zeros(shape, device=device, dtype=dtype)
        self.Ave = torch.zeros(class_num, feature_num, device=device, dtype=dtype)
        self.Amount = torch.zeros(class_num, device=device, dtype=dtype)

    def update_CV(self, features: torch.Tensor, labels: torch.Tensor) -> None:  # noqa: N802
        N = features.size(0)  # noqa: N806
        C = self.class_num  # noqa: N806
        A = features.size(1)  # noqa: N806

        NxCxFeatures = features.view(N, 1, A).expand(N, C, A)  # noqa: N806
        onehot = torch.zeros(N, C, device=features.device, dtype=features.dtype)
        onehot.scatter_(1, labels.view(-1, 1), 1)
        NxCxA_onehot = onehot.view(N, C, 1).expand(N, C, A)  # noqa: N806
        features_by_sort = NxCxFeatures.mul(NxCxA_onehot)
        Amount_CxA = NxCxA_onehot.sum(0)  # noqa: N806
        Amount_CxA[Amount_CxA == 0] = 1
        ave_CxA = features_by_sort.sum(0) / Amount_CxA
        var_temp = features_by_sort - ave_CxA.expand(N, C, A).mul(NxCxA_onehot)

        if self.covariance == 'full':
            var_temp = torch.bmm(var_temp.permute(1, 2, 0), var_temp.permute(1, 0, 2)).div(
                Amount_CxA.view(C, A, 1).expand(C, A, A))
            sum_weight_CV = onehot.sum(0).view(C, 1, 1).expand(C, A, A)  # noqa: N806
            sum_weight_AV = onehot.sum(0).view(C, 1).expand(C, A)  # noqa: N806
            weight_CV = sum_weight_CV.div(  # noqa: N806
                sum_weight_CV + self.Amount.view(C, 1, 1).expand(C, A, A))
            weight_CV[weight_CV != weight_CV] = 0
            weight_AV = sum_weight_AV.div(  # noqa: N806
                sum_weight_AV + self.Amount.view(C, 1).expand(C, A))
            weight_AV[weight_AV != weight_AV] = 0
            additional_CV = weight_CV.mul(1 - weight_CV).mul(  # noqa: N806
                torch.bmm((self.Ave - ave_CxA).view(C, A, 1), (self.Ave - ave_CxA).view(C, 1, A)))
        else:
            var_temp = var_temp.pow(2).sum(0).div(Amount_CxA)
            sum_weight_CV = onehot.sum(0).view(C, 1).expand(C, A)  # noqa: N806
            weight_CV = sum_weight_CV.div(  # noqa: N806
                sum_weight_CV + self.Amount.view(C, 1).expand(C, A))
            weight_CV[weight_CV != weight_CV] = 0
            weight_AV = weight_CV  # noqa: N806
            additional_CV = weight_CV.mul(1 - weight_CV).mul((self.Ave - ave_CxA).pow(2))  # noqa

        self.CoVariance = (self.CoVariance.mul(1 - weight_CV) +
                           var_temp.mul(weight_CV)).detach() + additional_CV.detach()
        self.Ave = (self.Ave.mul(1 - weight_AV) + ave_CxA.mul(weight_AV)).detach()
        self.Amount += onehot.sum(0)


def reference_isda_aug(weight: torch.Tensor, features: torch.Tensor, y: torch.Tensor,
                       labels: torch.Tensor, cv_matrix: torch.Tensor,
                       ratio: float) -> torch.Tensor:
    """The official ``ISDALoss.isda_aug`` (full or diagonal by ``cv_matrix.dim()``).

    Args:
        weight: Classifier weight ``(C, A)``.
        features: ``(N, A)`` (only its shape is used, as upstream).
        y: Logits ``(N, C)``.
        labels: ``(N,)``.
        cv_matrix: ``(C, A, A)`` or ``(C, A)``.
        ratio: ``λ``.

    Returns:
        Augmented logits ``(N, C)``.
    """
    N = features.size(0)  # noqa: N806
    C = weight.size(0)  # noqa: N806
    A = features.size(1)  # noqa: N806
    NxW_ij = weight.expand(N, C, A)  # noqa: N806
    NxW_kj = torch.gather(NxW_ij, 1, labels.view(N, 1, 1).expand(N, C, A))  # noqa: N806
    CV_temp = cv_matrix[labels]  # noqa: N806
    if cv_matrix.dim() == 3:
        sigma2 = ratio * torch.bmm(torch.bmm(NxW_ij - NxW_kj, CV_temp),
                                   (NxW_ij - NxW_kj).permute(0, 2, 1))
        sigma2 = sigma2.mul(torch.eye(C, device=y.device, dtype=y.dtype).expand(N, C, C)).sum(
            2).view(N, C)
    else:
        sigma2 = ratio * (weight - NxW_kj).pow(2).mul(CV_temp.view(N, 1, A).expand(N, C, A)).sum(2)
    return y + 0.5 * sigma2


def reference_isda_loss(estimator: ReferenceISDAEstimator, weight: torch.Tensor,
                        bias: torch.Tensor, features: torch.Tensor, labels: torch.Tensor,
                        ratio: float) -> torch.Tensor:
    """The official ``ISDALoss.forward`` after the backbone: ``fc`` → update → aug → CE."""
    y = F.linear(features, weight, bias)
    estimator.update_CV(features.detach(), labels)
    aug = reference_isda_aug(weight, features, y, labels, estimator.CoVariance.detach(), ratio)
    return F.cross_entropy(aug, labels)
