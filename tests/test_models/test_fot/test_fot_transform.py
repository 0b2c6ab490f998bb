# Copyright (c) dynamicnet contributors. All rights reserved.
"""The episode-level FOT transform: fot.md §8.3-8.4 and the posture sources."""
import pytest
import torch

from dynamicnet.datasets.transforms import FOTTransform
from dynamicnet.datasets.transforms.fot import soft_iou

GEN = dict(type='dynamicnet.PostureGenerator', base_channels=4, num_levels=1)
GT = dict(type='dynamicnet.GTMaskExtractor')


def episode(n_way=3, k_shot=2, n_query=2, size=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    n = n_way * k_shot
    s_imgs = torch.rand(n, 3, size, size, generator=g) * 255
    q_imgs = torch.rand(n_way * n_query, 3, size, size, generator=g) * 255
    s_masks = (torch.rand(n, 1, size, size, generator=g) > 0.5).float()
    q_masks = (torch.rand(n_way * n_query, 1, size, size, generator=g) > 0.5).float()
    return s_imgs, torch.arange(n_way).repeat_interleave(k_shot), q_imgs, s_masks, q_masks


def bank_cfg(root):
    return dict(
        type='dynamicnet.ClassSplitDataset', split='base', split_root=root,
        class_splits=dict(base='splits/base.txt', val='splits/val.txt', novel='splits/novel.txt'),
        dataset=dict(type='mmpretrain.CustomDataset', data_root=root, data_prefix='images',
                     pipeline=[dict(type='LoadImageFromFile'),
                               dict(type='dynamicnet.LoadForegroundMask'),
                               dict(type='PackInputs', algorithm_keys=('gt_seg_map', ))]))


def test_identity_and_no_aug_reproduce_the_episode_exactly():
    s_imgs, labels, q_imgs, s_masks, q_masks = episode()
    out = FOTTransform()(s_imgs, labels, q_imgs, s_masks, q_masks, episode_idx=3)
    assert torch.equal(out['support_imgs'], s_imgs)
    assert torch.equal(out['query_imgs'], q_imgs)
    assert torch.equal(out['support_labels'], labels)
    assert torch.equal(out['support_weights'], torch.ones(6))


def test_generated_count_labels_weights_and_support_only_derivation():
    s_imgs, labels, q_imgs, s_masks, q_masks = episode()
    gen = dict(GEN, posture_source='support_only')
    fot = FOTTransform(extractor=dict(GT, apply_to_query=False), generator=gen, n_aug=2,
                       generated_weight=0.5)
    out = fot(s_imgs, labels, q_imgs, s_masks, q_masks, episode_idx=1)
    n_way, k_shot, n_aug = 3, 2, 2
    assert out['support_imgs'].shape == (n_way * k_shot * (1 + n_aug), 3, 12, 12)
    assert out['support_labels'].tolist() == labels.tolist() + labels.repeat_interleave(2).tolist()
    assert out['support_weights'].tolist() == [1.0] * 6 + [0.5] * 12
    assert torch.equal(out['support_imgs'][:6], s_imgs * s_masks)  # real foregrounds first
    assert torch.equal(out['query_imgs'], q_imgs)  # apply_to_query=False
    # Generated samples depend on the support set only, and deterministically.
    again = fot(s_imgs, labels, torch.zeros_like(q_imgs), s_masks, q_masks * 0, episode_idx=1)
    assert torch.equal(again['support_imgs'], out['support_imgs'])
    other = fot(s_imgs, labels, q_imgs, s_masks, q_masks, episode_idx=2)
    assert not torch.equal(other['support_imgs'][6:], out['support_imgs'][6:])
    # Each generated sample lies inside its target posture (one of the other supports' masks).
    fg = (out['support_imgs'][6:] != 0).any(1, keepdim=True).float()
    src = torch.arange(6).repeat_interleave(2)
    for k in range(12):
        inside = [j for j in range(6) if j != src[k] and torch.all(fg[k] <= s_masks[j])]
        assert inside


def test_queries_are_foreground_extracted_by_default():
    s_imgs, labels, q_imgs, s_masks, q_masks = episode()
    out = FOTTransform(extractor=dict(GT, fill='mean', mean=(1., 2., 3.)))(
        s_imgs, labels, q_imgs, s_masks, q_masks)
    expected = q_masks * q_imgs + (1 - q_masks) * torch.tensor([1., 2., 3.]).view(1, 3, 1, 1)
    assert torch.equal(out['query_imgs'], expected)


def test_invalid_options():
    with pytest.raises(ValueError, match='needs a generator'):
        FOTTransform(n_aug=1)
    with pytest.raises(ValueError, match='posture_bank'):
        FOTTransform(generator=GEN, n_aug=1)
    with pytest.raises(ValueError):
        FOTTransform(n_aug=-1)


def test_base_posture_bank_matching_and_random(tiny_data_root, default_scope):
    default_scope('mmpretrain')
    root = tiny_data_root('fewshot')
    fot = FOTTransform(extractor=GT, generator=GEN, n_aug=3, posture_bank=bank_cfg(root),
                       num_postures=16)
    bank = fot.posture_bank(torch.device('cpu'))
    assert bank.shape == (16, 1, 64, 64) and set(bank.unique().tolist()) == {0.0, 1.0}
    # Matching: a support map equal to bank entry 5 gets entry 5 first, then by soft IoU.
    sal = bank[[5, 9]]
    targets = fot._target_postures(sal, episode_idx=0)
    assert targets.shape == (2, 3, 1, 64, 64)
    assert torch.equal(targets[0, 0], bank[5]) and torch.equal(targets[1, 0], bank[9])
    iou = soft_iou(sal, bank)
    assert torch.allclose(soft_iou(sal[:1], targets[0]), iou[0].topk(3).values[None])
    # Random base postures: seeded by the episode index.
    fot.posture_source = 'random_base'
    first = fot._target_postures(sal, episode_idx=4)
    assert torch.equal(first, fot._target_postures(sal, episode_idx=4))
    assert not torch.equal(first, fot._target_postures(sal, episode_idx=5))
    # A support image influences only its own generated samples.
    fot.posture_source = 'base_saliency_matching'
    s_imgs, labels, q_imgs, _, _ = episode(n_way=2, k_shot=1, size=64)
    s_masks, q_masks = bank[[1, 2]], torch.ones(len(q_imgs), 1, 64, 64)
    out = fot(s_imgs, labels, q_imgs, s_masks, q_masks)
    s_imgs2 = s_imgs.clone()
    s_imgs2[1] = 255 - s_imgs2[1]
    out2 = fot(s_imgs2, labels, q_imgs, s_masks, q_masks)
    assert torch.equal(out['support_imgs'][2:5], out2['support_imgs'][2:5])  # from image 0
    assert not torch.equal(out['support_imgs'][5:], out2['support_imgs'][5:])  # from image 1
