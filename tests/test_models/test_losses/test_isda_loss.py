# Copyright (c) dynamicnet contributors. All rights reserved.
"""ISDA estimator and surrogate loss: the invariants of ``isda.md`` §10 and the equality with the
official per-sample formulation (:mod:`dynamicnet.models.losses.isda_reference`)."""
import os
import socket

import pytest
import torch
import torch.multiprocessing as mp
import torch.nn as nn
import torch.nn.functional as F
from mmengine.logging import MessageHub

from dynamicnet.models.losses import ISDAEstimator, ISDALoss, isda_augment, isda_label_rows
from dynamicnet.models.losses import isda_loss as isda_loss_module
from dynamicnet.models.losses.isda_reference import (ReferenceISDAEstimator, reference_isda_aug,
                                                     reference_isda_loss)


def _batches(num_classes, dim, sizes, seed=0, shift=True):
    gen = torch.Generator().manual_seed(seed)
    centres = torch.randn(num_classes, dim, generator=gen) * 3
    out = []
    for size in sizes:
        labels = torch.randint(0, num_classes, (size, ), generator=gen)
        feats = centres[labels] + torch.randn(size, dim, generator=gen) * (
            1 + torch.arange(dim) / dim)
        out.append((feats, labels))
    return out


def _progress(epoch=None, max_epochs=None, iteration=None, max_iters=None):
    hub = MessageHub.get_instance(f'isda-test-{epoch}-{max_epochs}-{iteration}-{max_iters}')
    for key, value in (('epoch', epoch), ('max_epochs', max_epochs), ('iter', iteration),
                       ('max_iters', max_iters)):
        if value is not None:
            hub.update_info(key, value)
    return hub


@pytest.mark.parametrize('covariance', ['full', 'diagonal'])
def test_first_update_is_batch_covariance(covariance):
    feats, labels = _batches(4, 6, [50])[0]
    est = ISDAEstimator(4, 6, covariance)
    est.update(feats, labels)
    for c in range(4):
        rows = feats[labels == c].double()
        cov = torch.cov(rows.t(), correction=0)
        expected = cov if covariance == 'full' else cov.diagonal()
        torch.testing.assert_close(est.cov[c].double(), expected, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(est.mean[c].double(), rows.mean(0), rtol=1e-6, atol=1e-6)
        assert est.count[c] == rows.size(0)


@pytest.mark.parametrize('covariance', ['full', 'diagonal'])
def test_streaming_equals_full_data_statistics(covariance):
    data = _batches(5, 8, [37, 1, 64, 9, 50, 3], seed=1)
    feats = torch.cat([f for f, _ in data])
    labels = torch.cat([y for _, y in data])
    est = ISDAEstimator(5, 8, covariance)
    for f, y in data:
        est.update(f, y)
    for c in range(5):
        rows = feats[labels == c].double()
        cov = torch.cov(rows.t(), correction=0)
        expected = cov if covariance == 'full' else cov.diagonal()
        torch.testing.assert_close(est.cov[c].double(), expected, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(est.mean[c].double(), rows.mean(0), rtol=1e-5, atol=1e-5)
    assert est.count.tolist() == torch.bincount(labels, minlength=5).tolist()


def test_absent_classes_untouched_and_diagonal_is_diag_of_full():
    full, diag = ISDAEstimator(6, 5, 'full'), ISDAEstimator(6, 5, 'diagonal')
    (f1, y1), (f2, y2) = _batches(6, 5, [60, 40], seed=2)
    full.update(f1, y1)
    diag.update(f1, y1)
    before = {k: v.clone() for k, v in full.state_dict().items()}
    keep = y2 >= 3                            # classes 0..2 absent from the second batch
    full.update(f2[keep], y2[keep])
    diag.update(f2[keep], y2[keep])
    for name in ('mean', 'cov', 'count'):
        assert torch.equal(full.state_dict()[name][:3], before[name][:3])
    assert not torch.equal(full.cov[3:], before['cov'][3:])
    torch.testing.assert_close(diag.cov, full.cov.diagonal(dim1=1, dim2=2), rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(diag.mean, full.mean)
    never_seen = ISDAEstimator(3, 4, 'full')
    never_seen.update(torch.randn(5, 4), torch.zeros(5, dtype=torch.long))
    assert torch.isfinite(never_seen.cov).all() and never_seen.cov[1:].abs().sum() == 0


@pytest.mark.parametrize('covariance,chunk',
                         [('full', None), ('full', 300), ('full', 2**23), ('diagonal', None)])
def test_label_rows_equal_official_per_sample_path(covariance, chunk, monkeypatch):
    """Loss, gradients (features, W, b) and estimator state against the official formulation.

    ``chunk`` forces the batched (GPU) steps of the full-covariance paths on the CPU, with one
    class per step (300 elements) or all classes in one step.
    """
    if chunk is not None:
        monkeypatch.setattr(isda_loss_module, '_PER_CLASS_DEVICES', ())
        monkeypatch.setattr(isda_loss_module, '_CHUNK_ELEMENTS', chunk)
    num_classes, dim = 7, 16
    torch.manual_seed(3)
    weight = torch.randn(num_classes, dim) * 0.3
    bias = torch.randn(num_classes) * 0.1
    ours = ISDALoss(num_classes, dim, lambda0=0.8, covariance=covariance, schedule='constant')
    ref = ReferenceISDAEstimator(dim, num_classes, covariance)
    for step, (feats, labels) in enumerate(_batches(num_classes, dim, [30, 12, 45], seed=4)):
        w1, b1, f1 = (t.clone().requires_grad_() for t in (weight, bias, feats))
        w2, b2, f2 = (t.clone().requires_grad_() for t in (weight, bias, feats))
        fc = nn.Linear(dim, num_classes)
        fc.weight, fc.bias = nn.Parameter(w1), nn.Parameter(b1)
        loss = ours(f1, fc(f1), labels, fc)
        loss.backward()
        ref_loss = reference_isda_loss(ref, w2, b2, f2, labels, 0.8)
        ref_loss.backward()
        torch.testing.assert_close(loss, ref_loss, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(fc.weight.grad, w2.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(fc.bias.grad, b2.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(f1.grad, f2.grad, rtol=1e-4, atol=1e-6)
        torch.testing.assert_close(ours.estimator.cov, ref.CoVariance, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(ours.estimator.mean, ref.Ave, rtol=1e-5, atol=1e-6)
        assert ours.estimator.count.tolist() == ref.Amount.long().tolist()
    # Direct comparison of the augmented logits with random PSD covariances, in float64 maths.
    basis = torch.randn(num_classes, dim, dim, dtype=torch.float64)
    cov = basis @ basis.transpose(1, 2) / dim
    if covariance == 'diagonal':
        cov = cov.diagonal(dim1=1, dim2=2).contiguous()
    labels = torch.tensor([0, 3, 3, 6, 1, 0])
    logits = torch.randn(6, num_classes, dtype=torch.float64)
    w64 = weight.double()
    expected = reference_isda_aug(w64, torch.zeros(6, dim), logits, labels, cov, 1.3)
    got = isda_augment(logits.float(), w64.float(), cov.float(), labels, 1.3)
    torch.testing.assert_close(got.double(), expected, rtol=2e-5, atol=2e-4)


@pytest.mark.parametrize('min_scale,fold_rows', [(None, None), (None, {}), (0.5, {})],
                         ids=['default', 'deferred', 'frequent-folds'])
def test_deferred_scale_stays_accurate_over_many_updates(min_scale, fold_rows, monkeypatch):
    """1000 float32 merges with ``Σ`` stored as ``M = Σ / a``: as close to a float64 run of the
    official estimator as the official estimator in float32 is; with the default thresholds,
    with the factor deferred for every class until it falls below ``_MIN_SCALE``, and with folds
    at almost every merge."""
    if min_scale is not None:
        monkeypatch.setattr(isda_loss_module, '_MIN_SCALE', min_scale)
    if fold_rows is not None:
        monkeypatch.setattr(isda_loss_module, '_FOLD_EVERY_MERGE', fold_rows)
    num_classes, dim = 4, 8
    ours = ISDAEstimator(num_classes, dim, 'full')
    ref32 = ReferenceISDAEstimator(dim, num_classes, 'full')
    ref64 = ReferenceISDAEstimator(dim, num_classes, 'full', dtype=torch.float64)
    deferred = False
    for feats, labels in _batches(num_classes, dim, [24] * 1000, seed=10):
        ours.update(feats, labels)
        ref32.update_CV(feats, labels)
        ref64.update_CV(feats.double(), labels)
        deferred |= bool((ours.cov_scale != 1).any())
    assert deferred                                       # factors were pending
    ours_error = (ours.cov.double() - ref64.CoVariance).abs().max()
    ref_error = (ref32.CoVariance.double() - ref64.CoVariance).abs().max()
    assert ours_error <= 2 * ref_error + 1e-6 * ref64.CoVariance.abs().max()
    torch.testing.assert_close(ours.cov.double(), ref64.CoVariance, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(ours.mean.double(), ref64.Ave, rtol=1e-5, atol=1e-5)


def test_isda_loss_bounds_and_monotonicity():
    num_classes, dim = 5, 6
    torch.manual_seed(5)
    weight = torch.randn(num_classes, dim)
    basis = torch.randn(num_classes, dim, dim)
    cov = basis @ basis.transpose(1, 2) / dim
    labels = torch.tensor([0, 1, 2, 3, 4, 2, 2, 0])
    feats = torch.randn(8, dim)
    logits = feats @ weight.t()
    aug = isda_augment(logits, weight, cov, labels, 0.7)
    target = torch.arange(8)
    assert torch.equal(aug[target, labels], logits[target, labels])      # target logit exact
    assert (aug >= logits).all()
    losses = [F.cross_entropy(isda_augment(logits, weight, cov, labels, lam), labels)
              for lam in (0.0, 0.1, 0.5, 2.0)]
    assert losses[0] == F.cross_entropy(logits, labels)
    assert all(a < b for a, b in zip(losses, losses[1:]))
    # Monte-Carlo: E_{ã ~ N(a, λΣ_y)} CE(Wã, y) <= L_ISDA (Jensen bound).
    lam = 0.7
    chol = torch.linalg.cholesky(cov[labels] * lam + 1e-6 * torch.eye(dim))
    noise = torch.randn(20000, 8, dim, generator=torch.Generator().manual_seed(0))
    samples = feats + torch.einsum('nab,snb->sna', chol, noise)
    mc = F.cross_entropy((samples @ weight.t()).reshape(-1, num_classes),
                         labels.repeat(20000))
    bound = F.cross_entropy(aug, labels)
    assert mc < bound
    # The ISDA term carries no gradient to the features.
    feats = feats.clone().requires_grad_()
    logits = feats @ weight.t()
    (isda_augment(logits, weight, cov, labels, 0.7) - logits).sum().backward()
    assert feats.grad.abs().max() == 0


def test_hand_written_backwards_match_finite_differences():
    """The custom backwards of the full-covariance rows (built from ``P = DΣ``, with ``Σ`` stored
    as ``M = Σ / a``) and of the diagonal rows, in float64."""
    torch.manual_seed(9)
    weight = torch.randn(7, 5, dtype=torch.float64, requires_grad=True)
    classes = torch.tensor([0, 3, 6])
    basis = torch.randn(9, 5, 5, dtype=torch.float64)
    full = basis @ basis.transpose(1, 2)
    var = torch.rand(9, 5, dtype=torch.float64)
    scale = torch.tensor([0.5, 1.0, 0.01], dtype=torch.float64)

    def full_rows(w, per_class):
        builder = isda_loss_module._FullCovRowBuilder(w, classes)
        stored = full[classes] / scale.view(-1, 1, 1)
        if per_class:       # one (A, A) state and a float factor per visit, as on CPUs
            for c, state, factor in zip(classes.tolist(), stored, scale.tolist()):
                builder.visit([c], state, factor)
        else:               # one step of (k, A, A) states and (k,) factors, as on GPUs
            builder.visit(classes.tolist(), stored, scale)
        return builder.rows()

    direct = torch.stack([((weight - weight[c]) @ full[c] * (weight - weight[c])).sum(1)
                          for c in classes.tolist()])
    for per_class in (True, False):
        torch.testing.assert_close(full_rows(weight, per_class), direct)
        assert torch.autograd.gradcheck(lambda w: full_rows(w, per_class), (weight, ))
    assert torch.autograd.gradcheck(
        lambda w: isda_loss_module._DiagCovRows.apply(w, var[classes], classes), (weight, ))


def test_label_rows_only_for_present_classes():
    weight, cov = torch.randn(9, 4), torch.rand(9, 4)
    rows = isda_label_rows(weight, cov, torch.tensor([2, 7]))
    assert rows.shape == (2, 9)
    assert rows[0, 2] == 0 and rows[1, 7] == 0
    manual = (cov[7] * (weight - weight[7]).pow(2)).sum(1)
    torch.testing.assert_close(rows[1], manual, rtol=1e-5, atol=1e-5)


def test_lambda_zero_is_cross_entropy_exactly():
    feats, labels = _batches(4, 8, [20])[0]
    fc = nn.Linear(8, 4)
    logits = fc(feats)
    zero = ISDALoss(4, 8, lambda0=0.0, schedule='constant')
    assert torch.equal(zero(feats, logits, labels, fc), F.cross_entropy(logits, labels))
    # Epoch 0 of the classification schedule is plain CE as well, whatever λ0.
    _progress(epoch=0, max_epochs=10)
    first_epoch = ISDALoss(4, 8, lambda0=0.5)
    assert torch.equal(first_epoch(feats, logits, labels, fc), F.cross_entropy(logits, labels))
    assert first_epoch.estimator.count.sum() == 20    # the estimator still learns


def test_lambda_follows_runner_progress():
    loss = ISDALoss(3, 4, lambda0=7.5, schedule='epoch')
    _progress(epoch=3, max_epochs=10)
    assert loss.ratio == pytest.approx(7.5 * 3 / 10)
    seg = ISDALoss(3, 4, lambda0=7.5, schedule='iter')
    _progress(iteration=99, max_iters=400)            # runner.iter is 0-based: iteration 100
    assert seg.ratio == pytest.approx(7.5 * 100 / 400)
    MessageHub.get_instance('isda-test-empty')
    with pytest.raises(RuntimeError, match='RuntimeInfoHook'):
        loss.ratio


@pytest.mark.parametrize('chunk', [None, 2**23])
def test_segmentation_ignore_bucket(chunk, monkeypatch):
    """``chunk`` forces the batched (GPU) steps: the ignore bucket then shares a step with label
    classes, whose rows are built inside the merge."""
    if chunk is not None:
        monkeypatch.setattr(isda_loss_module, '_PER_CLASS_DEVICES', ())
        monkeypatch.setattr(isda_loss_module, '_CHUNK_ELEMENTS', chunk)
    loss = ISDALoss(3, 4, lambda0=1.0, schedule='constant', ignore_index=255)
    clean = ISDALoss(3, 4, lambda0=1.0, schedule='constant')
    gen = torch.Generator().manual_seed(6)
    fc = nn.Linear(4, 3)
    for _ in range(3):
        feats = torch.randn(40, 4, generator=gen)
        labels = torch.randint(0, 3, (40, ), generator=gen)
        labels[::3] = 255
        valid = labels != 255
        aug = loss.augment(feats, fc(feats), labels, fc)
        clean_aug = clean.augment(feats[valid], fc(feats[valid]), labels[valid], fc)
        assert torch.equal(aug[~valid], fc(feats)[~valid])
        torch.testing.assert_close(aug[valid], clean_aug)
    assert loss.estimator.cov.shape == (4, 4, 4)          # 3 classes + the ignore bucket
    torch.testing.assert_close(loss.estimator.cov[:3], clean.estimator.cov)
    assert loss.estimator.count[3] == 3 * 14


def test_state_dict_round_trip_resumes_bit_exactly(tmp_path):
    data = _batches(5, 6, [40, 40, 40, 40], seed=7)
    fc = nn.Linear(6, 5)
    first = ISDALoss(5, 6, lambda0=0.5, schedule='constant')
    for feats, labels in data[:2]:
        first.augment(feats, fc(feats), labels, fc)
    assert (first.estimator.cov_scale != 1).any()         # factors pending: saving folds them
    torch.save(first.state_dict(), tmp_path / 'isda.pth')
    assert set(first.state_dict()) == {'estimator.mean', 'estimator.cov', 'estimator.count'}
    resumed = ISDALoss(5, 6, lambda0=0.5, schedule='constant')
    resumed.load_state_dict(torch.load(tmp_path / 'isda.pth'))
    for feats, labels in data[2:]:
        a = first.augment(feats, fc(feats), labels, fc)
        b = resumed.augment(feats, fc(feats), labels, fc)
        assert torch.equal(a, b)
    for key, value in first.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key])


def test_bad_inputs_give_clear_errors():
    loss = ISDALoss(3, 4, lambda0=0.5, schedule='constant')
    fc = nn.Linear(4, 3)
    feats, labels = torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1])
    with pytest.raises(ValueError, match=r'features of shape \(N, 4\)'):
        loss.augment(torch.randn(5, 6), torch.randn(5, 3), labels, nn.Linear(6, 3).weight[:, :4])
    with pytest.raises(ValueError, match=r'labels must lie in \[0, 3\)'):
        loss.augment(feats, fc(feats), torch.tensor([0, 1, 3, 0, 1]), fc)
    with pytest.raises(ValueError, match='classifier weight has shape'):
        loss.augment(feats, fc(feats), labels, nn.Linear(4, 5))
    with pytest.raises(ValueError, match='kernel size 1'):
        loss.augment(feats, fc(feats), labels, nn.Conv2d(4, 3, 3))
    with pytest.raises(TypeError, match='accessible linear classifier'):
        loss.augment(feats, fc(feats), labels, nn.Sequential(nn.Linear(4, 3)))
    conv = nn.Conv2d(4, 3, 1)
    out = loss.augment(feats, conv(feats[:, :, None, None]).flatten(1), labels, conv)
    assert out.shape == (5, 3)
    seg = ISDALoss(3, 4, lambda0=0.5, schedule='constant', ignore_index=255)
    with pytest.raises(ValueError, match='ignore_index=255'):
        seg.augment(feats, fc(feats), torch.tensor([0, 1, 3, 255, 1]), fc)


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _dist_worker(rank, port, out_dir, covariance):
    import torch.distributed as tdist
    torch.set_num_threads(1)
    tdist.init_process_group('gloo', init_method=f'tcp://127.0.0.1:{port}', rank=rank,
                             world_size=2)
    data = _batches(5, 6, [32, 32, 32, 32], seed=8)
    est = ISDAEstimator(5, 6, covariance, sync='all_reduce')
    for feats, labels in data:
        half = slice(rank * 16, rank * 16 + 16)
        est.update(feats[half], labels[half])
    torch.save(est.state_dict(), os.path.join(out_dir, f'rank{rank}.pth'))
    tdist.destroy_process_group()


@pytest.mark.parametrize('covariance,batched', [('full', False), ('full', True),
                                                 ('diagonal', False)])
def test_all_reduce_equals_single_process_over_global_batch(tmp_path, monkeypatch, covariance,
                                                            batched):
    # Some classes are missing from one rank's half of a batch (class 4 on rank 0 in the second
    # batch, class 2 on rank 1 in the third): those ranks merge no rows of their own for them.
    single = ISDAEstimator(5, 6, covariance)
    for feats, labels in _batches(5, 6, [32, 32, 32, 32], seed=8):
        single.update(feats, labels)
    if batched:
        # The ranks run the batched (GPU) merge on CPU tensors (forked: they inherit this).
        monkeypatch.setattr(isda_loss_module, '_PER_CLASS_DEVICES', ())
    # fork: the workers inherit the imported stack instead of re-importing it (seconds each).
    mp.start_processes(_dist_worker, args=(_free_port(), str(tmp_path), covariance), nprocs=2,
                       start_method='fork')
    for rank in range(2):
        state = torch.load(tmp_path / f'rank{rank}.pth')
        for key, value in single.state_dict().items():
            torch.testing.assert_close(state[key], value, rtol=1e-5, atol=1e-5)
