# Copyright (c) dynamicnet contributors. All rights reserved.
"""RegNetY (GFNet's RegNet encoders): pycls widths/depths, SE blocks, sizes (gfnet.md §3.1)."""
import pytest
import torch

from dynamicnet.models.backbones.regnety import RegNetY, SEBottleneck
from dynamicnet.utils.complexity import count_macs, count_params

# pycls model zoo: stage widths, stage depths, params without the 1000-class fc (M), GMACs
PYCLS = {
    'regnety_600mf': ([48, 112, 256, 608], [1, 3, 7, 4], 6.1, 0.6),
    'regnety_800mf': ([64, 128, 320, 768], [1, 3, 8, 2], 6.3, 0.8),
    'regnety_1.6gf': ([48, 120, 336, 888], [2, 6, 17, 2], 11.2, 1.6),
}


@pytest.mark.parametrize('arch', sorted(PYCLS))
def test_regnety_matches_pycls(arch):
    widths, depths, params, gmacs = PYCLS[arch]
    model = RegNetY(arch)
    model.eval()
    assert model.stage_widths == widths and model.stage_blocks == depths
    with_fc = count_params(model) + widths[-1] * 1000 + 1000
    assert round(with_fc / 1e6, 1) == params
    assert round(count_macs(model, (torch.zeros(1, 3, 224, 224), )) / 1e9, 1) == gmacs


def test_se_block_squeezes_to_a_quarter_of_the_input_width():
    model = RegNetY('regnety_800mf', out_indices=(0, 1, 2, 3))
    first = model.layer2[0]
    assert isinstance(first, SEBottleneck)
    assert first.se.f_ex[0].out_channels == round(0.25 * 64)  # block input: stage-1 width
    assert model.layer2[1].se.f_ex[0].out_channels == round(0.25 * 128)
    model.eval()
    outs = model(torch.randn(2, 3, 96, 96))
    assert [tuple(o.shape) for o in outs] == [(2, 64, 24, 24), (2, 128, 12, 12),
                                              (2, 320, 6, 6), (2, 768, 3, 3)]
    # the SE gate multiplies the grouped-conv output: with the gates forced to 1 the block equals
    # the plain RegNetX block, with random gates it does not
    block = model.layer3[0]
    x = torch.randn(2, 128, 12, 12)
    with torch.no_grad():
        gated = block(x)
        se = block.se
        block.se = torch.nn.Identity()
        plain = block(x)
        block.se = se
        se.f_ex[2].weight.zero_()
        se.f_ex[2].bias.fill_(60.0)  # sigmoid(60) == 1 in float32
        ones = block(x)
    torch.testing.assert_close(ones, plain)
    assert not torch.allclose(gated, plain, atol=1e-3)
