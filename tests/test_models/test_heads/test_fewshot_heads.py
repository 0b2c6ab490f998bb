# Copyright (c) dynamicnet contributors. All rights reserved.
"""Few-shot heads: Baseline (linear), Baseline++ (cosine), prototype; inductive/transductive."""
import pytest
import torch
import torch.nn.functional as F

from dynamicnet.models.heads import (CosineFewShotHead, CosineSimilarityClsHead, LinearFewShotHead,
                                     PrototypeHead)
from dynamicnet.models.heads.fewshot_heads import _weighted_ce, cosine_logits


def blobs(n_per_class: int, n_way: int = 5, dim: int = 16, spread: float = 0.3, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_way, dim, generator=g) * 2
    labels = torch.arange(n_way).repeat_interleave(n_per_class)
    return centres[labels] + spread * torch.randn(len(labels), dim, generator=g), labels


@pytest.mark.parametrize('head', [LinearFewShotHead(), CosineFewShotHead(), PrototypeHead(),
                                  PrototypeHead(metric='cosine')])
def test_heads_fit_separable_episode(head):
    s_feat, s_lab = blobs(1, seed=0)
    q_feat, q_lab = blobs(15, seed=0)  # same centres, new noise
    head.fit(s_feat, s_lab, num_classes=5, seed=3)
    assert head(q_feat).shape == (75, 5)
    assert (head.predict(q_feat) == q_lab).float().mean() == 1.0


def test_finetuned_heads_are_seeded():
    s_feat, s_lab = blobs(2, spread=1.5, seed=1)
    q_feat, _ = blobs(10, spread=1.5, seed=2)
    outs = []
    for seed in (5, 5, 6):
        head = CosineFewShotHead(num_epochs=5)
        head.fit(s_feat, s_lab, 5, seed=seed)
        outs.append(head(q_feat))
    assert torch.equal(outs[0], outs[1])
    assert not torch.allclose(outs[0], outs[2])


def test_prototype_is_weighted_class_mean_and_transductive_refinement():
    feats = torch.tensor([[0., 0.], [2., 0.], [10., 10.], [4., 0.]])
    labels = torch.tensor([0, 0, 1, 0])
    head = PrototypeHead()
    head.fit(feats, labels, 2, weights=torch.tensor([1., 1., 1., 0.]))  # weight 0 ignored
    assert torch.allclose(head.prototypes, torch.tensor([[1., 0.], [10., 10.]]))
    assert torch.allclose(head(torch.tensor([[1., 1.]])), torch.tensor([[-1., -162.]]))
    query = torch.tensor([[3., 0.], [9., 9.]])
    head = PrototypeHead(transductive_steps=1)
    head.fit(feats[:3], labels[:3], 2, query_feats=query)
    # One soft k-means step: each prototype absorbs the (almost one-hot) nearby query.
    assert torch.allclose(head.prototypes, torch.tensor([[5 / 3, 0.], [9.5, 9.5]]), atol=1e-4)


def test_generated_weight_scales_the_loss():
    head = LinearFewShotHead(num_epochs=1, batch_size=8, lr=0.0)
    feats, labels = blobs(2, n_way=2, dim=4)
    head.fit(feats, labels, 2, seed=0)
    logits = head(feats)
    w = torch.tensor([1., 1., 0., 0.])
    expected = (F.cross_entropy(logits, labels, reduction='none') * w).sum() / w.sum()
    assert torch.isclose(_weighted_ce(logits, labels, w), expected)
    assert torch.isclose(_weighted_ce(logits, labels, torch.ones(4)),
                         F.cross_entropy(logits, labels))


def test_transductive_entropy_changes_the_fit():
    s_feat, s_lab = blobs(1, spread=1.0, seed=4)
    q_feat, _ = blobs(15, spread=1.0, seed=5)
    heads = [CosineFewShotHead(num_epochs=10, transductive_weight=w) for w in (1.0, 1.0)]
    heads[0].fit(s_feat, s_lab, 5, seed=0)
    heads[1].fit(s_feat, s_lab, 5, query_feats=q_feat, seed=0)
    ent = [-(h(q_feat).softmax(-1) * h(q_feat).log_softmax(-1)).sum(-1).mean() for h in heads]
    assert ent[1] < ent[0]  # entropy minimisation on the queries


def test_cosine_logits_and_cls_head():
    feats = torch.tensor([[3., 4.], [1., 0.]])
    weight = torch.tensor([[1., 0.], [0., 2.]])
    assert torch.allclose(cosine_logits(feats, weight, 10.), torch.tensor([[6., 8.], [10., 0.]]))
    head = CosineSimilarityClsHead(num_classes=3, in_channels=2, scale=5.0)
    out = head((torch.randn(4, 2), ))
    assert out.shape == (4, 3) and out.abs().max() <= 5.0 + 1e-5
