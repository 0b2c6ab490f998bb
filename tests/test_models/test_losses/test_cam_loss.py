# Copyright (c) dynamicnet contributors. All rights reserved.
"""CAM-loss: the unit-test invariants of ``camloss.md`` §7."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from dynamicnet.models.losses import CAMLoss, class_activation_map, normalize_map


def _maps(seed=0, batch=4, channels=8, height=5, width=7):
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(batch, channels, height, width, generator=gen)


def test_cam_identity_and_caam():
    fmap = _maps()
    weight, bias = torch.randn(3, 8), torch.randn(3)
    labels = torch.tensor([0, 2, 1, 2])
    logits = F.linear(fmap.mean(dim=(2, 3)), weight, bias)
    cam = class_activation_map(fmap, weight[labels])
    torch.testing.assert_close(cam.mean(dim=(1, 2)) + bias[labels],
                               logits[torch.arange(4), labels])
    torch.testing.assert_close(class_activation_map(fmap, torch.ones(8)), fmap.sum(1))


def test_normalisation_over_flattened_map():
    cam = torch.randn(3, 4, 6)
    norm = normalize_map(cam)
    assert torch.allclose(norm.flatten(1).amin(1), torch.zeros(3))
    assert torch.allclose(norm.flatten(1).amax(1), torch.ones(3), atol=1e-5)
    torch.testing.assert_close(normalize_map(cam.transpose(1, 2)), norm.transpose(1, 2))
    constant = normalize_map(torch.full((2, 3, 3), 4.0))
    assert torch.isfinite(constant).all() and constant.abs().max() == 0
    summed = normalize_map(cam.abs(), 'sum')
    torch.testing.assert_close(summed.flatten(1).sum(1), torch.ones(3), rtol=1e-4, atol=1e-4)


def test_degenerate_solution_and_detached_classifier():
    fmap = _maps(1)
    labels = torch.tensor([0, 1, 1, 0])
    loss = CAMLoss(alpha=1.0)
    weight = torch.ones(2, 8) * torch.tensor([[0.5], [3.0]])     # W[y] = c·1, c > 0
    assert loss(fmap, weight, labels) < 1e-5
    weight = torch.randn(2, 8, requires_grad=True)
    fmap = fmap.clone().requires_grad_()
    value = loss(fmap, weight, labels)
    assert value > 0.01
    value.backward()
    assert weight.grad is None
    assert fmap.grad.abs().sum() > 0
    with pytest.warns(UserWarning, match='ablations'):
        undetached = CAMLoss(detach_classifier=False)
    undetached(fmap, weight, labels).backward()
    assert weight.grad.abs().sum() > 0


def test_options_change_the_term():
    fmap = _maps(2)
    weight, labels = torch.randn(3, 8), torch.tensor([0, 1, 2, 0])
    logits = F.linear(fmap.mean(dim=(2, 3)), weight)
    values = {
        'default': CAMLoss()(fmap, weight, labels),
        'l2': CAMLoss(distance='l2')(fmap, weight, labels),
        'pred': CAMLoss(cam_class='pred')(fmap, weight, labels, logits),
        'relu': CAMLoss(relu_cam=True)(fmap, weight, labels),
        'alpha': CAMLoss(alpha=3.0)(fmap, weight, labels),
    }
    torch.testing.assert_close(values['alpha'], 3 * values['default'])
    assert values['l2'] < values['default']                    # |d| <= 1 after min-max
    manual = (normalize_map(fmap.sum(1)) - normalize_map(
        class_activation_map(fmap, weight[labels]))).abs().mean()
    torch.testing.assert_close(values['default'], manual)
    pred = logits.argmax(1)
    torch.testing.assert_close(values['pred'], CAMLoss()(fmap, weight, pred))
    with pytest.raises(ValueError, match='spatial feature map'):
        CAMLoss()(fmap.mean(dim=(2, 3)), weight, labels)
    with pytest.raises(ValueError, match="distance must be"):
        CAMLoss(distance='cos')


def test_skip_constant_maps():
    fmap = _maps(3)
    fmap[1] = 0.5                                              # a dead sample
    weight, labels = torch.randn(2, 8), torch.tensor([0, 1, 1, 0])
    kept = CAMLoss()(fmap, weight, labels)
    alone = CAMLoss()(fmap[[0, 2, 3]], weight, labels[[0, 2, 3]])
    torch.testing.assert_close(kept, alone)


def test_alpha_warmup_schedules():
    hub = MessageHub.get_instance('cam-test-progress')
    hub.update_info('max_epochs', 10)
    step = CAMLoss(alpha=2.0, alpha_schedule='step', warmup_epochs=3)
    linear = CAMLoss(alpha=2.0, alpha_schedule='linear', warmup_epochs=4)
    hub.update_info('epoch', 1)
    assert step.current_alpha == 0 and linear.current_alpha == pytest.approx(0.5)
    hub.update_info('epoch', 3)
    assert step.current_alpha == 2.0 and linear.current_alpha == pytest.approx(1.5)
    assert step(_maps(), torch.randn(2, 8), torch.zeros(4, dtype=torch.long)) > 0
