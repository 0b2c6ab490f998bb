# Copyright (c) dynamicnet contributors. All rights reserved.
"""AdaFocusV2: differentiable crop, end-to-end gradients, two-pass loss (adafocus.md §8, §10)."""
import pytest
import torch
from mmengine.registry import init_default_scope
from mmpretrain.structures import DataSample

from dynamicnet.models.classifiers.gfnet import crop_patches
from dynamicnet.models.recognizers.adafocus_v2 import AdaFocusV2, differentiable_crop


@pytest.fixture(autouse=True)
def _scope(default_scope):
    init_default_scope('mmpretrain')


def _model(frames=3):
    torch.manual_seed(0)
    return AdaFocusV2(
        global_backbone=dict(type='mmpretrain.MobileNetV2', widen_factor=0.25),
        local_backbone=dict(type='mmpretrain.ResNet', depth=18, base_channels=8),
        local_channels=64, num_classes=5, num_segments=frames, patch_size=32, input_size=64,
        policy=dict(hidden_dim=32, reduced_channels=8), cls_head=dict(hidden_dim=64))


def test_crop_identity_and_integer_corners():
    torch.manual_seed(0)
    x = torch.randn(2, 3, 16, 16)
    assert torch.allclose(differentiable_crop(x, torch.zeros(2, 2), 16), x, atol=1e-5)
    # corners on the integer lattice reproduce the integer crop of AdaFocus V1 exactly
    corners = torch.tensor([[0.5, 0.25], [1.0, 0.0]])
    assert torch.allclose(differentiable_crop(x, corners, 8), crop_patches(x, corners, 8),
                          atol=1e-5)


def test_crop_gradient_wrt_corner():
    image = torch.arange(64.0).view(1, 1, 8, 8).repeat(2, 1, 1, 1)  # value = 8 row + col
    corners = torch.tensor([[0.3, 0.6], [0.7, 0.2]], requires_grad=True)
    differentiable_crop(image, corners, 4).sum().backward()
    # d(sum)/d(row corner) = 16 px * 8 * (H - P) = 512; column: 16 * 1 * 4 = 64
    assert torch.allclose(corners.grad, torch.tensor([[512.0, 64.0], [512.0, 64.0]]))


def test_loss_two_passes_and_end_to_end_gradients():
    model = _model()
    model.train()
    losses = model.loss(torch.randn(4, 3, 3, 64, 64),
                        [DataSample().set_gt_label(i) for i in range(4)])
    assert set(losses) == {f'loss_{t}_{p}' for t in ('cls', 'glance', 'focus')
                           for p in ('policy', 'random')}
    sum(losses.values()).backward()
    # the policy learns through the crop although its input map is detached
    assert model.policy.fc.weight.grad.abs().sum() > 0
    assert model.policy.encoder[0].weight.grad.abs().sum() > 0
    for module in (model.global_backbone, model.local_backbone, model.cls_head):
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in module.parameters())


def test_running_max_classifier_and_exits():
    model = _model(frames=3).eval()
    x = torch.randn(2, 3, 3, 64, 64)
    _, states = model._run(x, random=False)
    assert torch.all(states[2]['running_max'] >= states[1]['running_max'])
    assert torch.all(states[1]['running_max'] >= states[0]['running_max'])
    costs = model.exit_costs((3, 3, 64, 64))
    assert costs[2] == pytest.approx(3 * costs[0])
    scores, index = model.early_exit(x, [2.0, 2.0, 2.0])
    assert index.tolist() == [2, 2]
    assert torch.allclose(scores, model.forward_exits(x)[2].softmax(1), atol=1e-5)


def test_full_size_gflops_p128():
    """AdaFocusV2-MN2/RN at 128^2: 27.0 GFLOPs per 16-frame video (V2 Table 4), within 3%."""
    model = AdaFocusV2(global_backbone=dict(type='mmpretrain.MobileNetV2'),
                       local_backbone=dict(type='mmpretrain.ResNet', depth=50), num_classes=200,
                       num_segments=1, patch_size=128)
    per_video = 16 * model.exit_costs((1, 3, 224, 224))[0] / 1e9
    assert abs(per_video - 27.0) / 27.0 < 0.03, per_video
