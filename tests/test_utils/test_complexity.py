# Copyright (c) dynamicnet contributors. All rights reserved.
"""The MAC counter: conv/linear rules, analytic modules, and nested counting."""
import torch
import torch.nn as nn

from dynamicnet.utils.complexity import count_macs, count_params


class SelfCounting(nn.Module):
    """Counts its own cost during its forward, as multi-exit models do in predict mode."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.fc = nn.Linear(8, 4)
        self.inner_count = None

    def forward(self, x):
        self.inner_count = count_macs(self.conv, (x, ))
        return self.fc(self.conv(x).mean((2, 3)))


def test_conv_and_linear_rules():
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1, groups=1), nn.ReLU(),
                          nn.Conv2d(8, 8, 3, padding=1, groups=4), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(8, 5))
    x = torch.randn(2, 3, 10, 10)
    expected = 2 * (100 * 8 * 3 * 9 + 100 * 8 * 2 * 9) + 2 * 8 * 5
    assert count_macs(model, (x, )) == expected
    assert count_params(model) == sum(p.numel() for p in model.parameters())


def test_nested_count_is_not_double_counted():
    model = SelfCounting()
    x = torch.randn(1, 3, 6, 6)
    total = count_macs(model, (x, ))
    conv = 36 * 8 * 3 * 9
    assert model.inner_count == conv
    assert total == conv + 8 * 4
