# Copyright (c) dynamicnet contributors. All rights reserved.
"""FOT extractors and posture generator: the invariants of fot.md §8.1-8.2."""
import numpy as np
import pytest
import torch
from mmengine.structures import BaseDataElement

from dynamicnet.models.fot import (FOTUNet, GTMaskExtractor, IdentityExtractor, PostureGenerator,
                                   SaliencyExtractor, composite_foreground, masks_from_data_samples)


def images_and_masks(n=3, size=20, seed=0):
    g = torch.Generator().manual_seed(seed)
    imgs = torch.rand(n, 3, size, size, generator=g) * 255
    masks = torch.zeros(n, 1, size, size)
    masks[:, :, 4:14, 5:15] = 1
    return imgs, masks


@pytest.mark.parametrize('fill', ['zero', 'mean', 'blur'])
def test_composite_equals_input_on_foreground_and_fill_on_background(fill):
    imgs, masks = images_and_masks()
    mean = (10., 20., 30.)
    out = composite_foreground(imgs, masks, fill, mean, blur_kernel=5)
    fg = masks.expand_as(imgs) > 0
    assert torch.equal(out[fg], imgs[fg])
    if fill == 'zero':
        assert torch.all(out[~fg] == 0)
    elif fill == 'mean':
        assert torch.all(out[:, 0][~fg[:, 0]] == 10) and torch.all(out[:, 2][~fg[:, 2]] == 30)
    else:
        blurred = torch.nn.functional.avg_pool2d(
            torch.nn.functional.pad(imgs, [2] * 4, mode='replicate'), 5, stride=1)
        assert torch.allclose(out[~fg], blurred[~fg])
    soft = composite_foreground(imgs, masks * 0.25, 'zero')
    assert torch.allclose(soft, imgs * masks * 0.25)


def test_extractors_shapes_range_and_variants():
    imgs, masks = images_and_masks(size=21)  # odd size: the U-Net must keep it
    sal_ext = SaliencyExtractor(base_channels=4, num_levels=2).eval()
    fg, sal = sal_ext.extract(imgs)
    assert fg.shape == imgs.shape and sal.shape == (3, 1, 21, 21)
    assert sal.min() >= 0 and sal.max() <= 1
    assert torch.allclose(fg, sal * imgs)  # zero fill
    fg_bin, sal_bin = SaliencyExtractor(base_channels=4, num_levels=2,
                                        binarize=0.5).eval().extract(imgs)
    assert set(sal_bin.unique().tolist()) <= {0.0, 1.0}

    fg, sal = IdentityExtractor().extract(imgs)
    assert torch.equal(fg, imgs) and torch.all(sal == 1)
    fg, sal = GTMaskExtractor(fill='mean', mean=(1., 2., 3.)).extract(imgs, masks)
    assert torch.equal(sal, masks) and torch.all(fg[:, 1, 0, 0] == 2.)
    with pytest.raises(ValueError, match='needs dataset masks'):
        GTMaskExtractor().extract(imgs)
    with pytest.raises(ValueError):
        IdentityExtractor(fill='noise')
    with pytest.raises(ValueError):
        IdentityExtractor(binarize=1.5)
    assert FOTUNet(5, 3, 4, 3)(torch.rand(2, 5, 17, 30)).shape == (2, 3, 17, 30)


def _samples(masks, flipped_view=False, **extra):
    out = []
    for i, m in enumerate(masks):
        s = BaseDataElement()
        mask = m[0].numpy().astype(np.uint8)
        # A horizontal flip in the pipeline leaves a numpy view with a negative stride.
        s.set_field(mask[:, ::-1] if flipped_view else mask, 'gt_seg_map')
        for k, v in extra.items():
            s.set_field(v[i], k)
        out.append(s)
    return out


def test_masks_from_data_samples_handles_flipped_views():
    _, masks = images_and_masks()
    masks[0, 0, 0, 0] = 1  # make the flip visible
    got = masks_from_data_samples(_samples(masks, flipped_view=True))
    assert torch.equal(got, masks.flip(-1))
    assert masks_from_data_samples([BaseDataElement()]) is None


def test_saliency_extractor_learns_base_masks():
    torch.manual_seed(0)
    imgs, masks = images_and_masks(n=8, size=16)
    imgs = imgs * 0.3 + masks * 160  # a bright object on a noisy background
    model = SaliencyExtractor(base_channels=4, num_levels=2)
    optim = torch.optim.Adam(model.parameters(), lr=1e-2)
    data = model.data_preprocessor(dict(inputs=list(imgs), data_samples=_samples(masks)), True)
    losses = []
    for _ in range(80):
        loss = sum(model(**data, mode='loss').values())
        optim.zero_grad()
        loss.backward()
        optim.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]
    model.eval()
    sal = model.extract(imgs)[1]
    iou = ((sal > 0.5) & (masks > 0)).sum() / ((sal > 0.5) | (masks > 0)).sum()
    assert iou > 0.8


def test_generator_shapes_options_and_identity_sanity():
    torch.manual_seed(0)
    gen = PostureGenerator(base_channels=8, num_levels=2)
    imgs, masks = images_and_masks(n=4, size=16)
    imgs01 = imgs / 255.
    assert gen.generate(imgs01, masks, masks).shape == (4, 3, 16, 16)
    with pytest.raises(ValueError):
        PostureGenerator(posture_source='novel')
    # Training on identity pairs drives G(x_fg, S, S) towards x inside S (fot.md §8.2).
    pair = _samples(masks, pair_inputs=imgs.to(torch.uint8),
                    pair_gt_seg_map=masks[:, 0].numpy().astype(np.uint8))
    inputs = imgs.to(torch.uint8).float() / 255.
    before = gen.identity_error(inputs, masks).item()
    optim = torch.optim.Adam(gen.parameters(), lr=5e-3)
    for _ in range(40):
        loss = gen(inputs, pair, mode='loss')['loss_rec']
        optim.zero_grad()
        loss.backward()
        optim.step()
    gen.eval()
    after = gen.identity_error(inputs, masks).item()
    assert after < 0.5 * before
    out = gen(inputs, _samples(masks), mode='tensor')
    assert out.shape == (4, 3, 16, 16)


def test_generator_masks_from_a_frozen_extractor():
    torch.manual_seed(0)
    gen = PostureGenerator(base_channels=4, num_levels=1,
                           mask_extractor=dict(type='dynamicnet.SaliencyExtractor',
                                               base_channels=4, num_levels=1, binarize=0.5))
    gen.train()
    assert gen.training and not gen.mask_extractor.training
    imgs, _ = images_and_masks(n=2, size=8)
    samples = [BaseDataElement(pair_inputs=img.to(torch.uint8)) for img in imgs]  # no masks
    inputs = imgs.to(torch.uint8).float() / 255.
    loss = gen(inputs, samples, mode='loss')['loss_rec']
    loss.backward()
    assert all(p.grad is None for p in gen.mask_extractor.parameters())
    assert all(p.grad is not None for p in gen.net.parameters())
    expected = gen.mask_extractor.extract(imgs.to(torch.uint8).float())[1]
    assert torch.equal(gen._masks(inputs, samples, 'gt_seg_map'), expected)
