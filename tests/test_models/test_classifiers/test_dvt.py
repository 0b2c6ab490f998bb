# Copyright (c) dynamicnet contributors. All rights reserved.
"""DVT: token grids, reuse wiring, losses, early exit, per-exit MACs, a tiny training run.

Invariants from ``../shared/specs/dvt.md`` §10 and §7.1.
"""
import copy
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from dynamicnet.models.backbones.dvt import (DVTT2TViT, DVTVisionTransformer, ReuseState,
                                             resample_relations, resample_tokens)
from dynamicnet.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
CONFIGS = osp.join(REPO, 'configs', 'dvt')
SPLITS_224 = [(14, 8, 3), (11, 6, 5), (7, 4, 2)]
SPLITS_112 = [(7, 4, 2), (5, 3, 2), (4, 2, 1)]
TINY_ARCH = dict(embed_dims=32, num_layers=2, num_heads=2, mlp_ratio=2)


@pytest.fixture(autouse=True)
def _scope():
    torch.manual_seed(0)
    init_default_scope('mmpretrain')


def tiny_dvt(feature_reuse=True, relation_reuse=True, num_classes=5, **extra):
    """A 3-exit DVT with miniature T2T exits at 112x112 (7x7, 10x10, 14x14 tokens)."""
    common = dict(
        type='dynamicnet.DVTT2TViT',
        arch=TINY_ARCH,
        img_size=112,
        token_dims=8,
        t2t_drop_rate=0.,
        reuse_channels=8,
        reuse_hidden_channels=16,
        **extra)
    backbones = [dict(common, soft_split0=SPLITS_112[0])] + [
        dict(common, soft_split0=s, feature_reuse=feature_reuse, relation_reuse=relation_reuse)
        for s in SPLITS_112[1:]
    ]
    model = MODELS.build(
        dict(
            type='dynamicnet.DVT',
            backbones=backbones,
            head=dict(
                type='mmpretrain.VisionTransformerClsHead',
                num_classes=num_classes,
                init_cfg=dict(type='TruncNormal', layer='Linear', std=.02))))
    model.init_weights()
    return model.eval()


# ---- token grids --------------------------------------------------------------------------------
@pytest.mark.parametrize('split,grid', list(zip(SPLITS_224, [7, 10, 14])))
def test_t2t_token_grid_224(split, grid):
    backbone = DVTT2TViT(arch='t2t-vit-12', soft_split0=split)
    assert tuple(backbone.patch_resolution) == (grid, grid)
    assert backbone.pos_embed.shape == (1, grid * grid + 1, 256)
    tokens, hw = backbone.tokens_to_token(torch.randn(1, 3, 224, 224))
    assert tokens.shape == (1, grid * grid, 256) and tuple(hw) == (grid, grid)


@pytest.mark.parametrize('patch,pad,grid', [(32, 0, 7), (23, 3, 10), (16, 0, 14)])
def test_deit_patch_grid_224(patch, pad, grid):
    backbone = DVTVisionTransformer(
        arch=dict(embed_dims=48, num_layers=1, num_heads=2, feedforward_channels=96),
        patch_size=patch,
        patch_padding=pad)
    tokens, hw = backbone.tokenize(torch.randn(2, 3, 224, 224))
    assert tuple(hw) == (grid, grid)
    assert tokens.shape == (2, grid * grid + 1, 48)


# ---- resampling ---------------------------------------------------------------------------------
@pytest.mark.parametrize('src,dst,official_up', [(7, 10, 14), (10, 14, 20)])
def test_resample_tokens_is_official_nearest_then_avgpool(src, dst, official_up):
    x = torch.randn(3, 5, src * src)
    ref = F.adaptive_avg_pool2d(
        F.interpolate(x.reshape(3, 5, src, src), size=(official_up, official_up), mode='nearest'),
        (dst, dst)).flatten(2)
    torch.testing.assert_close(resample_tokens(x, (src, src), (dst, dst)), ref)


def _resample_matrix(src: int, dst: int, up: int) -> torch.Tensor:
    """The (n, m) linear map of nearest-upsample + adaptive-avg-pool, from unit impulses."""
    eye = torch.eye(src * src).reshape(src * src, 1, src, src)
    out = F.adaptive_avg_pool2d(F.interpolate(eye, size=(up, up), mode='nearest'), (dst, dst))
    return out.reshape(src * src, dst * dst)


@pytest.mark.parametrize('src,dst,up', [(7, 10, 14), (10, 14, 20)])
def test_resample_relations_matches_matrix_form(src, dst, up):
    n, m = src * src, dst * dst
    rel = torch.randn(2, 3, n + 1, n + 1, dtype=torch.float64)
    mat = _resample_matrix(src, dst, up).double()
    # CLS query/key kept, patch rows and columns resampled independently (linear, separable)
    ref = torch.zeros(2, 3, m + 1, m + 1, dtype=torch.float64)
    ref[..., 0, 0] = rel[..., 0, 0]
    ref[..., 0, 1:] = rel[..., 0, 1:] @ mat
    ref[..., 1:, 0] = (rel[..., 1:, 0].unsqueeze(-2) @ mat).squeeze(-2)
    ref[..., 1:, 1:] = mat.t() @ rel[..., 1:, 1:] @ mat
    out = resample_relations(rel, (src, src), (dst, dst))
    assert out.shape == (2, 3, m + 1, m + 1)
    torch.testing.assert_close(out, ref)


def test_relation_reuse_shapes_t2t12():
    backbone = DVTT2TViT(arch='t2t-vit-12', soft_split0=SPLITS_224[1], relation_reuse=True)
    rels = [torch.randn(1, 4, 50, 50) for _ in range(12)]
    biases = backbone.relation_reuse_mlp(rels, (7, 7), (10, 10))
    assert len(biases) == 12 and all(b.shape == (1, 4, 101, 101) for b in biases)
    backbone3 = DVTT2TViT(arch='t2t-vit-12', soft_split0=SPLITS_224[2], relation_reuse=True)
    rels = [torch.randn(1, 4, 101, 101) for _ in range(12)]
    biases = backbone3.relation_reuse_mlp(rels, (10, 10), (14, 14))
    assert all(b.shape == (1, 4, 197, 197) for b in biases)


def test_feature_reuse_cls_row_is_zero():
    backbone = DVTT2TViT(arch=TINY_ARCH, img_size=112, soft_split0=SPLITS_112[1],
                         token_dims=8, feature_reuse=True, reuse_channels=8)
    branch = backbone.layers[0].feature_reuse
    out = branch(torch.randn(2, 50, 32), (7, 7), (10, 10))
    assert out.shape == (2, 101, 8)
    assert torch.equal(out[:, 0], torch.zeros(2, 8))
    assert out[:, 1:].abs().sum() > 0


# ---- reuse wiring -------------------------------------------------------------------------------
def _exit_logits(model, images, k):
    return model.forward_exits(images)[k]


def _excite(model):
    """Unit-gain weights: the 0.02 initialisation makes every reuse path nearly silent."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (torch.nn.Linear, torch.nn.Conv2d)):
                m.weight.normal_(0, m.weight[0].numel()**-0.5)
    return model


def _perturb_exit(model, k):
    with torch.no_grad():
        for p in model.backbones[k].layers.parameters():
            p.add_(0.5 * torch.randn_like(p))


@pytest.mark.parametrize('feature,relation', [(True, False), (False, True), (True, True)])
def test_reuse_changes_downstream_output(feature, relation):
    model = _excite(tiny_dvt(feature, relation))
    images = torch.randn(2, 3, 112, 112)
    before = _exit_logits(model, images, 1)
    _perturb_exit(model, 0)
    after = _exit_logits(model, images, 1)
    assert (before - after).abs().max() > 1e-2


def test_reuse_switched_off_vanishes():
    model = _excite(tiny_dvt(False, False))
    names = [n for n, _ in model.named_parameters()]
    assert not any('feature_reuse' in n or 'relation_reuse' in n for n in names)
    assert model.backbones[1].layers[0].ln2.normalized_shape == (32, )
    images = torch.randn(2, 3, 112, 112)
    before = model.forward_exits(images)
    _perturb_exit(model, 0)
    after = model.forward_exits(images)
    assert (before[0] - after[0]).abs().max() > 1e-2
    torch.testing.assert_close(before[1], after[1], rtol=0, atol=0)
    torch.testing.assert_close(before[2], after[2], rtol=0, atol=0)


def test_zeroed_reuse_equals_plain_block_with_zero_padded_mlp_input():
    """dvt.md §10 wiring check: with the last layers of both reuse MLPs zeroed, the downstream
    exit is a plain ViT whose MLP input is the zero-padded ``[x || 0]`` (computed by hand)."""
    model = tiny_dvt(True, True)
    down = model.backbones[1]
    with torch.no_grad():
        for layer in down.layers:
            layer.feature_reuse.fc2.weight.zero_()
            layer.feature_reuse.fc2.bias.zero_()
        down.relation_reuse_mlp.mlp[2].weight.zero_()
        down.relation_reuse_mlp.mlp[2].bias.zero_()
    images = torch.randn(2, 3, 112, 112)
    _, up_state = model.backbones[0](images, return_state=True)
    _, state = down(images, upstream=up_state, return_state=True)

    x, _ = down.tokenize(images)
    heads, dims = TINY_ARCH['num_heads'], TINY_ARCH['embed_dims']
    for layer in down.layers:
        h = F.layer_norm(x, (dims, ), layer.ln1.weight, layer.ln1.bias, layer.ln1.eps)
        qkv = F.linear(h, layer.attn.qkv.weight).reshape(2, -1, 3, heads, dims // heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        attn = ((q @ k.transpose(-2, -1)) * (dims // heads)**-0.5).softmax(-1)
        x = x + F.linear((attn @ v).transpose(1, 2).reshape(2, -1, dims), layer.attn.proj.weight,
                         layer.attn.proj.bias)
        padded = torch.cat([x, x.new_zeros(*x.shape[:2], 8)], dim=2)
        h = F.layer_norm(padded, (dims + 8, ), layer.ln2.weight, layer.ln2.bias, layer.ln2.eps)
        fc1, fc2 = layer.ffn.layers[0][0], layer.ffn.layers[1]
        x = x + fc2(F.gelu(fc1(h)))
    torch.testing.assert_close(state.features, x, rtol=1e-5, atol=1e-5)


def test_exported_relations_accumulate_the_bias():
    model = tiny_dvt(False, True)
    images = torch.randn(1, 3, 112, 112)
    _, s1 = model.backbones[0](images, return_state=True)
    _, s2 = model.backbones[1](images, upstream=s1, return_state=True)
    biases = model.backbones[1].relation_reuse_mlp(s1.relations, s1.hw, s2.hw)
    # recompute the scaled logits of block 0 without bias: exported = logits + bias
    x, _ = model.backbones[1].tokenize(images)
    layer = model.backbones[1].layers[0]
    h = layer.ln1(x)
    qkv = layer.attn.qkv(h).reshape(1, -1, 3, 2, 16).permute(2, 0, 3, 1, 4)
    logits = (qkv[0] @ qkv[1].transpose(-2, -1)) * 16**-0.5
    torch.testing.assert_close(s2.relations[0], logits + biases[0], rtol=1e-5, atol=1e-5)


# ---- training loss ------------------------------------------------------------------------------
def test_loss_is_sum_of_three_ce_and_reaches_everything():
    from mmpretrain.structures import DataSample
    model = tiny_dvt().train()
    images = torch.randn(4, 3, 112, 112)
    labels = torch.tensor([0, 1, 2, 3])
    samples = [DataSample().set_gt_label(int(y)) for y in labels]
    losses = model.loss(images, samples)
    assert sorted(losses) == ['loss_exit0', 'loss_exit1', 'loss_exit2']
    torch.manual_seed(1)
    total = sum(losses.values())
    total.backward()
    # The CLS row of the reused features is zero and the MLP is per token, so the last block's
    # feature-reuse branch of the **last** exit cannot reach its CLS output (only patch tokens,
    # which nothing downstream reads): exactly zero gradient, in the official model as well.
    dead = 'backbones.2.layers.1.feature_reuse.'
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.startswith(dead):
            assert p.grad is None or p.grad.abs().sum() == 0, name
        else:
            assert p.grad is not None and p.grad.abs().sum() > 0, name
    # the values are plain cross-entropies of each exit's logits (eval: deterministic)
    model.eval()
    losses = model.loss(images, samples)
    logits = model.forward_exits(images)
    for k in range(3):
        torch.testing.assert_close(losses[f'loss_exit{k}'], F.cross_entropy(logits[k], labels))


# ---- early exit ---------------------------------------------------------------------------------
def test_thresholds_route_everything_to_first_or_last_exit():
    from dynamicnet.evaluation.metrics.early_exit import evaluate_thresholds
    model = tiny_dvt()
    images = torch.randn(6, 3, 112, 112)
    labels = torch.tensor([0, 1, 2, 3, 4, 0])
    probs = [p.softmax(1) for p in model.forward_exits(images)]
    scores, index = model.early_exit(images, [0.0, 0.0, -1e8])
    assert index.tolist() == [0] * 6
    torch.testing.assert_close(scores, probs[0])
    scores, index = model.early_exit(images, [1.1, 1.1, -1e8])
    assert index.tolist() == [2] * 6
    torch.testing.assert_close(scores, probs[2], rtol=1e-5, atol=1e-6)
    # the matching accuracy and cost through the shared evaluator
    costs = model.exit_costs((3, 112, 112))
    conf = torch.stack([p.max(1).values for p in probs])
    correct = torch.stack([p.argmax(1) == labels for p in probs])
    for thresholds, k in (([0.0, 0.0, -1e8], 0), ([1.1, 1.1, -1e8], 2)):
        acc, cost, counts = evaluate_thresholds(conf, correct, torch.tensor(thresholds), costs)
        assert cost == pytest.approx(costs[k]) and counts[k] == 6
        assert acc == pytest.approx(correct[k].double().mean().item() * 100)


def test_batch_partitioning_keeps_each_sample_on_its_own_state():
    model = tiny_dvt()
    images = torch.randn(8, 3, 112, 112)
    probs = [p.softmax(1) for p in model.forward_exits(images)]
    conf0, conf1 = probs[0].max(1).values, probs[1].max(1).values
    t0, t1 = conf0.median().item(), conf1.median().item()
    scores, index = model.early_exit(images, [t0, t1, -1e8])
    expected = torch.where(conf0 >= t0, 0, torch.where(conf1 >= t1, 1, 2))
    assert index.tolist() == expected.tolist()
    assert 0 < (index == 0).sum() < 8 and (index > 0).sum() > 0
    for i, k in enumerate(index.tolist()):
        torch.testing.assert_close(scores[i], probs[k][i], rtol=1e-5, atol=1e-6)


# ---- MACs ---------------------------------------------------------------------------------------
def _performer_macs(tokens, dims, emb=64, m=32):
    return tokens * (dims * 3 * emb + 3 * emb * emb + 4 * emb * m + m)


def _independent_exit_macs(split, depth, dims, heads, mlp_ratio, num_classes=1000, upstream=None,
                           img=224):
    """fvcore-convention MACs of one DVT T2T exit, written from the architecture tables."""
    k, s, p = split
    g0 = (img + 2 * p - k) // s + 1
    g1 = (g0 - 1) // 2 + 1
    g2 = (g1 - 1) // 2 + 1
    n = g2 * g2 + 1
    macs = _performer_macs(g0 * g0, 3 * k * k) + _performer_macs(g1 * g1, 64 * 9)
    macs += g2 * g2 * 576 * dims
    ff = int(dims * mlp_ratio)
    extra = 48 if upstream else 0
    block = n * dims * 3 * dims + 2 * heads * n * n * (dims // heads) + n * dims * dims
    block += n * (dims + extra) * ff + n * ff * dims
    macs += depth * block
    if upstream:
        n_up = upstream
        macs += depth * n_up * (dims * 128 + 128 * 48)  # feature-reuse MLPs
        macs += 2 * 3 * (heads * depth)**2 * n_up * n_up  # relation 1x1-conv MLP
    return macs + dims * num_classes, n


@pytest.mark.parametrize('arch,dims,depth,heads,ratio,anchors', [
    ('t2t-vit-12', 256, 12, 4, 2, (0.47e9, 1.45e9, 3.46e9)),
    ('t2t-vit-14', 384, 14, 6, 3, (1.20e9, 3.82e9, 9.26e9)),
])
def test_exit_macs_match_independent_count_and_spec_anchors(arch, dims, depth, heads, ratio,
                                                            anchors):
    name = {'t2t-vit-12': 'dvt_t2t-vit-12_8xb128_in1k.py',
            't2t-vit-14': 'dvt_t2t-vit-14_8xb64_in1k.py'}[arch]
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    model = MODELS.build(cfg.model).eval()
    costs = model.exit_costs((3, 224, 224))
    expected, up = [], None
    for split in SPLITS_224:
        own, n = _independent_exit_macs(split, depth, dims, heads, ratio, upstream=up)
        expected.append(own)
        up = n
    cumulative = [sum(expected[:i + 1]) for i in range(3)]
    assert costs == [float(c) for c in cumulative]
    for got, anchor in zip(costs, anchors):
        assert abs(got - anchor) / anchor < 0.02, (got, anchor)


def test_plain_t2t_vit_12_macs_anchor():
    """Calibration of dvt.md §7.1: plain T2T-ViT-12 at 14x14 tokens is 1.76 GMACs."""
    from dynamicnet.utils.complexity import count_macs
    backbone = DVTT2TViT(arch='t2t-vit-12', soft_split0=(7, 4, 2))
    backbone.eval()
    macs = count_macs(backbone, (torch.zeros(1, 3, 224, 224), )) + 256 * 1000  # + linear head
    own, _ = _independent_exit_macs((7, 4, 2), 12, 256, 4, 2)
    assert macs == own
    assert abs(macs - 1.76e9) / 1.76e9 < 0.01


# ---- built on mmpretrain's DeiT -----------------------------------------------------------------
def test_deit_exit_without_reuse_equals_mmpretrain_vision_transformer():
    from mmpretrain.models import VisionTransformer
    arch = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)
    ref = VisionTransformer(arch=arch, img_size=64, patch_size=16)
    ref.init_weights()
    ours = DVTVisionTransformer(arch=arch, img_size=64, patch_size=16)
    ref.eval()
    ours.eval()
    state = {k.replace('ln1.', 'norm.') if k.startswith('ln1.') else k: v
             for k, v in ref.state_dict().items()}
    ours.load_state_dict(state, strict=True)
    images = torch.randn(2, 3, 64, 64)
    torch.testing.assert_close(ours(images)[0], ref(images)[0], rtol=1e-5, atol=1e-5)


# ---- configs ------------------------------------------------------------------------------------
@pytest.mark.parametrize('name', [
    'dvt_t2t-vit-12_8xb128_in1k.py', 'dvt_t2t-vit-14_8xb64_in1k.py',
    'dvt_deit-small_8xb128_in1k.py', 'dvt_t2t-vit-12_8xb64_cifar10.py',
    'dvt_t2t-vit-12_8xb64_cifar100.py', 'dvt_t2t-vit-14_8xb64_cifar10.py',
    'dvt_t2t-vit-14_8xb64_cifar100.py', 'dvt_t2t-vit-tiny_1xb16_tiny-imagenet.py'
])
def test_configs_load_and_build(name):
    cfg = Config.fromfile(osp.join(CONFIGS, name))
    model = MODELS.build(copy.deepcopy(cfg.model))
    assert model.num_exits == 3
    assert [b.uses_upstream for b in model.backbones] == [False, True, True]
    num_classes = cfg.model.head.num_classes
    assert model.heads[0].num_classes == num_classes
    if 'tiny' in name:
        assert [tuple(b.patch_resolution) for b in model.backbones] == [(4, 4), (5, 5), (7, 7)]


# ---- a short run on tiny data -------------------------------------------------------------------
def test_tiny_imagenet_training_loss_falls_and_budget_curve(tiny_data_root, tmp_path):
    from mmengine.runner import Runner

    import dynamicnet  # noqa: F401
    root = tiny_data_root('imagenet')
    cfg = Config.fromfile(osp.join(CONFIGS, 'dvt_t2t-vit-tiny_1xb16_tiny-imagenet.py'))
    for key in ('val_dataloader', 'test_dataloader'):
        cfg[key].dataset.data_root = root
    for loader in (cfg.train_dataloader, cfg.fit_dataloader, cfg.test_cfg.fit_dataloader):
        loader.dataset.dataset.data_root = root  # inside dynamicnet.HoldoutSplit
    cfg.work_dir = str(tmp_path)
    cfg.train_cfg = dict(by_epoch=True, max_epochs=3, val_interval=100)
    cfg.param_scheduler = []
    cfg.optim_wrapper.optimizer.lr = 3e-3  # a constant, larger rate: few iterations here
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=100)
    cfg.visualizer = dict(type='UniversalVisualizer', vis_backends=[])
    runner = Runner.from_cfg(cfg)
    runner.train()
    history = runner.message_hub.get_scalar('train/loss').data[0]
    first, last = sum(history[:4]) / 4, sum(history[-4:]) / 4
    assert len(history) == 3 * 7 and last < 0.85 * first, (first, last)
    metrics = runner.test()
    top1 = metrics['early_exit/budget/top1']
    macs = metrics['early_exit/budget/macs']
    costs = metrics['early_exit/exit_costs']
    assert len(top1) == 59 and costs[0] < costs[1] < costs[2]
    assert min(macs) >= costs[0] - 1e-6 and max(macs) <= costs[2] + 1e-6
    assert math.isclose(macs[0], costs[0], rel_tol=0.2)  # q = 0.05: nearly all leave at exit 1


def test_reuse_state_round_trips_through_batch_selection():
    from dynamicnet.models.classifiers.multi_exit import select_batch
    state = ReuseState(torch.randn(4, 5, 3), [torch.randn(4, 2, 5, 5)], (2, 2))
    picked = select_batch(state, torch.tensor([1, 3]))
    assert isinstance(picked, ReuseState)  # batch partitioning keeps the named tuple
    assert picked.features.shape[0] == 2 and picked.relations[0].shape[0] == 2
    assert picked.hw == (2, 2)
