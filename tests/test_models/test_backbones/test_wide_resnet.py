# Copyright (c) dynamicnet contributors. All rights reserved.
"""WideResNet: WRN-28-10 has the paper's 36.5 M parameters and a 640-d 8x8 output map."""
import pytest
import torch

from dynamicnet.models.backbones import WideResNet


def test_wrn_28_10_layout():
    model = WideResNet(depth=28, widen_factor=10, drop_rate=0.3)
    params = sum(p.numel() for p in model.parameters()) + 640 * 10 + 10    # + CIFAR-10 fc
    assert params == pytest.approx(36.5e6, rel=0.002)
    assert model.out_channels == 640 and len(model.layer1) == 4


def test_wrn_forward_and_depth_check():
    model = WideResNet(depth=10, widen_factor=2).eval()
    out = model(torch.randn(2, 3, 32, 32))
    assert len(out) == 1 and out[0].shape == (2, 128, 8, 8) and (out[0] >= 0).all()
    with pytest.raises(ValueError, match='6n \\+ 4'):
        WideResNet(depth=27)
