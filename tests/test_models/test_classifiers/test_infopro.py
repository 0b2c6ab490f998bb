# Copyright (c) dynamicnet contributors. All rights reserved.
"""InfoPro: splits, auxiliary nets, SupCon, gradient isolation, K = 1 equivalence, variants.

Invariants from ``../shared/specs/infopro.md`` §11. The reference computations in this file are
written independently of ``dynamicnet.models.utils.infopro``: they run the backbone's modules by
hand and take ``torch.autograd.grad`` of each local loss.
"""
import copy
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.optim import OptimWrapper
from torch import nn

import dynamicnet.models  # noqa: F401
from dynamicnet.models.losses.supcon_loss import supcon_loss
from dynamicnet.models.utils.infopro_split import (INFOPRO_SPLITS, infopro_loss_weights,
                                                   partition_units, resnet_units, resolve_split,
                                                   unit_out_channels)
from dynamicnet.registry import MODELS

MEAN, STD = [125.3, 123.0, 113.9], [63.0, 62.1, 66.7]


def _cfg(depth=20, split=None, weights=(1.0, 1.0, None, None), task='contrast', **kwargs):
    head_out = 128 if task == 'contrast' else 10
    loss = dict(type='dynamicnet.SupConLoss') if task == 'contrast' else dict(
        type='mmpretrain.CrossEntropyLoss')
    return dict(
        type='dynamicnet.InfoProClassifier',
        backbone=dict(type='dynamicnet.CIFARResNet', depth=depth),
        neck=dict(type='mmpretrain.GlobalAveragePooling'),
        head=dict(type='mmpretrain.LinearClsHead', num_classes=10, in_channels=64,
                  loss=dict(type='mmpretrain.CrossEntropyLoss')),
        split=split,
        loss_weights=dict(zip(('ixx_1', 'ixy_1', 'ixx_2', 'ixy_2'), weights)),
        decoder=dict(type='dynamicnet.InfoProDecoder'),
        local_head=dict(type='dynamicnet.InfoProAuxHead', arch='1c2f', out_channels=head_out),
        local_loss=loss,
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', mean=MEAN, std=STD),
        **kwargs)


def _build(cfg, seed=0):
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _batch(n=8, seed=0, size=16):
    from mmpretrain.structures import DataSample
    g = torch.Generator().manual_seed(seed)
    inputs = [torch.randint(0, 256, (3, size, size), generator=g, dtype=torch.uint8)
              for _ in range(n)]
    samples = [DataSample().set_gt_label(i % 4) for i in range(n)]
    return dict(inputs=inputs, data_samples=samples)


@pytest.fixture(autouse=True)
def _scope(default_scope):
    default_scope('mmpretrain')


# -- splits ------------------------------------------------------------------------------------

def _branch_convs(units):
    """Conv layers on the residual path (the spec's conv counts exclude projection shortcuts)."""
    count = 0
    for unit in units:
        for name, module in [(n, m) for layer in unit.layers for n, m in layer.named_modules()]:
            if isinstance(module, nn.Conv2d) and 'downsample' not in name:
                count += 1
    return count


CIFAR_PRESETS = sorted(k for k in INFOPRO_SPLITS if k.startswith(('resnet32_', 'resnet110_')))


@pytest.mark.parametrize('name', CIFAR_PRESETS)
def test_cifar_presets_partition_every_unit_once(name):
    depth = 32 if name.startswith('resnet32') else 110
    backbone = MODELS.build(dict(type='dynamicnet.CIFARResNet', depth=depth))
    units = resnet_units(backbone)
    modules = partition_units(units, resolve_split(name))
    k = int(name.split('_k')[1].split('_')[0])
    assert len(modules) == k
    flat = [u for m in modules for u in m]
    assert [(u.stage, u.block) for u in flat] == [(u.stage, u.block) for u in units]
    assert all(len(m) > 0 for m in modules)
    # each module ends exactly at its split entry
    assert [(m[-1].stage, m[-1].block) for m in modules[:-1]] == resolve_split(name)


def test_resnet110_conv_counts_match_the_spec():
    backbone = MODELS.build(dict(type='dynamicnet.CIFARResNet', depth=110))
    units = resnet_units(backbone)
    counts = {name: [_branch_convs(m) for m in partition_units(units, resolve_split(name))]
              for name in ('resnet110_k2', 'resnet110_k3', 'resnet110_k4')}
    assert counts['resnet110_k2'] == [55, 54]
    assert counts['resnet110_k3'] == [37, 36, 36]
    assert counts['resnet110_k4'] == [25, 28, 28, 28]
    assert len(units) == 1 + 54 and _branch_convs(units) == 109


@pytest.mark.parametrize('name,backbone,channels', [
    ('resnet101_imagenet_k2', dict(type='mmpretrain.ResNet', depth=101), 512),
])
def test_imagenet_presets_cut_inside_layer2(name, backbone, channels):
    model = MODELS.build(backbone)
    units = resnet_units(model)
    first, second = partition_units(units, resolve_split(name))
    block = INFOPRO_SPLITS[name][0][1]
    assert first[-1].layers[0] is model.layer2[block]
    assert unit_out_channels(first[-1]) == channels
    assert second[0].layers[0] is model.layer2[block + 1]
    x = torch.zeros(1, 3, 224, 224)
    model.eval()
    with torch.no_grad():
        for unit in first:
            x = unit(x)
    assert x.shape == (1, 512, 28, 28)


@pytest.mark.parametrize('backbone', [
    dict(type='dynamicnet.CIFARResNet', depth=20, out_indices=(0, 1, 2)),
    dict(type='mmpretrain.ResNet_CIFAR', depth=18, out_indices=(1, 3)),
    dict(type='mmpretrain.ResNetV1d', depth=50, out_indices=(0, 2, 3)),
    dict(type='mmpretrain.ResNeXt', depth=50, out_indices=(3, )),
    dict(type='mmseg.ResNetV1c', depth=18, out_indices=(0, 1, 2, 3), dilations=(1, 1, 2, 4),
         strides=(1, 2, 1, 1), contract_dilation=True),
], ids=lambda cfg: cfg['type'])
def test_units_reproduce_the_backbone_forward(backbone):
    """Running the units through the split machinery equals the backbone's own forward."""
    if backbone['type'].startswith('mmseg'):
        pytest.importorskip('mmseg')
    cfg = _cfg(split=[[1, 0], [2, 0]], weights=(1, 1))
    cfg['backbone'] = backbone
    torch.manual_seed(0)
    model = MODELS.build(cfg).eval()
    x = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        expected = model.backbone(x)
        h, outs = x, []
        for units in model._local_modules():
            h, outs = model._forward_module(units, h, outs)
    assert len(outs) == len(expected)
    for a, b in zip(outs, expected):
        torch.testing.assert_close(a, b)


def test_split_validation():
    units = resnet_units(MODELS.build(dict(type='dynamicnet.CIFARResNet', depth=20)))
    with pytest.raises(ValueError, match='names no block'):
        partition_units(units, [(1, 3)])
    with pytest.raises(ValueError, match='network order'):
        partition_units(units, [(2, 0), (1, 0)])
    with pytest.raises(ValueError, match='empty'):
        partition_units(units, [(3, 2)])
    with pytest.raises(KeyError):
        resolve_split('resnet50_k2')


def test_loss_weight_interpolation():
    assert infopro_loss_weights(4, 1, 0, 0, 1) == [(1, 0), (0.5, 0.5), (0, 1)]
    assert infopro_loss_weights(2, 5, 0.5) == [(5, 0.5)]
    w = infopro_loss_weights(8, 5, 0, 0, 2)
    assert len(w) == 7 and w[0] == (5, 0) and w[-1] == (0, 2)
    assert w[3] == pytest.approx((2.5, 1.0))


# -- auxiliary networks ------------------------------------------------------------------------

@pytest.mark.parametrize('name', CIFAR_PRESETS)
def test_aux_net_shapes_for_every_module(name):
    depth = 32 if name.startswith('resnet32') else 110
    model = _build(_cfg(depth, name, (5, 0.5, 0.5, 1)))
    modules = model._local_modules()
    x = torch.rand(2, 3, 32, 32)
    model.eval()
    with torch.no_grad():
        h = x
        for k, units in enumerate(modules[:-1]):
            h, _ = model._forward_module(units, h, [])
            expected = {16: 16, 32: 32, 64: 64}[h.shape[1]]
            assert unit_out_channels(units[-1]) == expected
            recon = torch.sigmoid(model.decoders[k](h, size=(32, 32)))
            assert recon.shape == x.shape
            assert 0 < recon.min() and recon.max() < 1
            assert model.local_heads[k](h).shape == (2, 128)
            convs = [m for m in model.local_heads[k].modules() if isinstance(m, nn.Conv2d)]
            assert len(convs) == 1 and convs[0].stride == ((2, 2) if h.shape[1] < 64 else (1, 1))


@pytest.mark.parametrize('name,backbone', [
    ('resnet101_imagenet_k2', dict(type='mmpretrain.ResNet', depth=101)),
    ('resnet152_imagenet_k2', dict(type='mmpretrain.ResNet', depth=152)),
    ('resnext101_32x8d_imagenet_k2',
     dict(type='mmpretrain.ResNeXt', depth=101, groups=32, width_per_group=8)),
])
def test_imagenet_presets_aux_net_shapes(name, backbone):
    cfg = _cfg(split=name, weights=(5, 0.75), task='softmax')
    cfg.update(
        backbone=backbone,
        head=dict(type='mmpretrain.LinearClsHead', num_classes=1000, in_channels=2048),
        decoder=dict(type='dynamicnet.InfoProProgressiveDecoder'),
        local_head=dict(type='dynamicnet.InfoProAuxHead', arch=None, out_channels=1000,
                        convs=((128, 1, 1), (256, 3, 2), (512, 3, 2), (2048, 1, 1))))
    model = _build(cfg).eval()
    x = torch.rand(1, 3, 224, 224)
    with torch.no_grad():
        h, _ = model._forward_module(model._local_modules()[0], x, [])
        assert h.shape == (1, 512, 28, 28)
        assert model.decoders[0](h, size=(224, 224)).shape == (1, 3, 224, 224)
        assert model.local_heads[0](h).shape == (1, 1000)


def test_aux_head_archs_and_imagenet_shapes():
    head = MODELS.build(dict(type='dynamicnet.InfoProAuxHead', in_channels=16, out_channels=10,
                             arch='0c1f'))
    assert [type(m) for m in head.fcs] == [nn.Linear]
    assert head(torch.rand(2, 16, 8, 8)).shape == (2, 10)
    head = MODELS.build(dict(type='dynamicnet.InfoProAuxHead', in_channels=32, out_channels=10,
                             arch='2c3f'))
    assert head(torch.rand(2, 32, 8, 8)).shape == (2, 10)
    imagenet = MODELS.build(
        dict(type='dynamicnet.InfoProAuxHead', in_channels=512, out_channels=1000, arch=None,
             convs=((128, 1, 1), (256, 3, 2), (512, 3, 2), (2048, 1, 1))))
    decoder = MODELS.build(dict(type='dynamicnet.InfoProProgressiveDecoder', in_channels=512))
    h = torch.rand(1, 512, 28, 28)
    assert imagenet(h).shape == (1, 1000)
    assert decoder(h, size=(224, 224)).shape == (1, 3, 224, 224)
    with pytest.raises(ValueError):
        MODELS.build(dict(type='dynamicnet.InfoProAuxHead', in_channels=8, out_channels=2,
                          arch='1c0f'))


def test_raw_image_restoration():
    model = _build(_cfg(20))
    data = model.data_preprocessor(_batch(4), True)
    raw = model._raw_images(data['inputs'])
    expected = torch.stack(_batch(4)['inputs']).float() / 255
    torch.testing.assert_close(raw, expected, atol=1e-5, rtol=0)


# -- SupCon ------------------------------------------------------------------------------------

def test_supcon_toy_value_and_invariances():
    feats = torch.tensor([[1., 0.], [0.6, 0.8], [0., 1.], [-1., 0.]])
    labels = torch.tensor([0, 0, 1, 2])
    tau = 0.5
    sim = feats @ feats.T / tau
    # anchors 0 and 1 are each other's only positive; anchors 2 and 3 have none (contribute 0)
    terms = []
    for a, p in ((0, 1), (1, 0)):
        denom = sum(math.exp(sim[a, j]) for j in range(4) if j != a)
        terms.append(-(sim[a, p].item() - math.log(denom)))
    expected = (tau / 0.07) * sum(terms) / 4
    assert supcon_loss(feats, labels, tau) == pytest.approx(expected, rel=1e-5)
    perm = torch.tensor([2, 0, 3, 1])
    assert supcon_loss(feats[perm], labels[perm], tau) == pytest.approx(expected, rel=1e-5)
    assert supcon_loss(feats * 3, labels, tau) == pytest.approx(expected, rel=1e-5)
    assert supcon_loss(feats, torch.arange(4), tau).item() == 0


# -- the training step -------------------------------------------------------------------------

def _sgd(model, lr=1.0, **kwargs):
    return OptimWrapper(torch.optim.SGD(model.parameters(), lr=lr, **kwargs))


def _reference_grads(model, data, split_entries, weights):
    """Per-parameter gradients of InfoPro's losses, computed by hand, module by module."""
    backbone = model.backbone
    pre = model.data_preprocessor(copy.deepcopy(data), True)
    x, samples = pre['inputs'], pre['data_samples']
    labels = torch.cat([s.gt_label for s in samples])
    raw = (x * pre_std(model) + pre_mean(model)) / 255
    seq = [('stem', nn.Sequential(backbone.conv1, backbone.norm1, backbone.relu))]
    for s, layer in enumerate([backbone.layer1, backbone.layer2, backbone.layer3], start=1):
        seq += [((s, i), block) for i, block in enumerate(layer)]
    ends = {('stem' if s == 0 else (s, b)) for s, b in split_entries}
    params = [p for p in model.parameters()]
    total = [torch.zeros_like(p) for p in params]
    h, k, module_params = x, 0, []
    for key, layer in seq:
        h = layer(h)
        module_params += list(layer.parameters())
        if key in ends:
            rw, tw = weights[k]
            z = model.decoders[k](h, size=x.shape[-2:])
            loss = rw * F.binary_cross_entropy(torch.sigmoid(z), raw)
            loss = loss + tw * supcon_loss(model.local_heads[k](h), labels)
            grads = torch.autograd.grad(loss, params, allow_unused=True)
            mine = {id(p) for p in module_params + list(model.decoders[k].parameters()) +
                    list(model.local_heads[k].parameters())}
            for p, g, acc in zip(params, grads, total):
                if g is None:
                    continue
                # isolation: loss_k reaches only module k and its auxiliary nets
                assert id(p) in mine or g.abs().max() == 0
                acc += g
            h, k, module_params = h.detach(), k + 1, []
    logits = model.head.fc(torch.flatten(F.adaptive_avg_pool2d(h, 1), 1))
    grads = torch.autograd.grad(F.cross_entropy(logits, labels), params, allow_unused=True)
    mine = {id(p) for p in module_params + list(model.head.parameters())}
    for p, g, acc in zip(params, grads, total):
        if g is not None:
            assert id(p) in mine or g.abs().max() == 0
            acc += g
    return total


def pre_mean(model):
    return model.data_preprocessor.mean


def pre_std(model):
    return model.data_preprocessor.std


def test_train_step_gradients_equal_independent_local_losses():
    split = [[1, 1], [2, 2]]
    weights = (2.0, 0.5, 1.0, 1.5)
    model = _build(_cfg(20, split, weights))
    reference = copy.deepcopy(model)
    data = _batch(8)
    expected = _reference_grads(reference, data, split, infopro_loss_weights(3, *weights))
    before = [p.detach().clone() for p in model.parameters()]
    model.train_step(copy.deepcopy(data), _sgd(model, lr=1.0))
    for p0, p1, g in zip(before, model.parameters(), expected):
        torch.testing.assert_close(p0 - p1, g, atol=1e-5, rtol=1e-4)
    # BN statistics moved exactly as in the reference forward
    for b0, b1 in zip(reference.buffers(), model.buffers()):
        torch.testing.assert_close(b0, b1)


def test_gradient_isolation_with_autograd_grad():
    model = _build(_cfg(20, [[1, 2], [2, 1]], (1.0, 1.0, 1.0, 1.0)))
    pre = model.data_preprocessor(_batch(8), True)
    losses = model.loss(pre['inputs'], pre['data_samples'])
    views = [set(map(id, model.local_module_view(k).parameters())) for k in range(3)]
    params = list(model.parameters())
    groups = {0: ['local0.loss_recon', 'local0.loss_task'],
              1: ['local1.loss_recon', 'local1.loss_task'], 2: ['loss_cls']}
    for k, names in groups.items():
        loss = sum(losses[n] for n in names)
        grads = torch.autograd.grad(loss, params, allow_unused=True, retain_graph=True)
        for p, g in zip(params, grads):
            reached = g is not None and g.abs().max() > 0
            if id(p) not in views[k]:
                assert not reached, f'loss of module {k} reached another module'
        assert any(g is not None and g.abs().max() > 0
                   for p, g in zip(params, grads) if id(p) in views[k])
    # the views partition the trainable parameters
    assert sum(len(v) for v in views) == len(params) == len(set.union(*views))


def test_k1_equals_end_to_end_step_for_step():
    e2e_cfg = dict(
        type='mmpretrain.ImageClassifier',
        backbone=dict(type='dynamicnet.CIFARResNet', depth=20),
        neck=dict(type='mmpretrain.GlobalAveragePooling'),
        head=dict(type='mmpretrain.LinearClsHead', num_classes=10, in_channels=64,
                  loss=dict(type='mmpretrain.CrossEntropyLoss')),
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', mean=MEAN, std=STD))
    e2e = _build(e2e_cfg)
    local = _build(_cfg(20, None, (0, 0, 0, 0)))
    local.load_state_dict(e2e.state_dict())
    ow_e2e = _sgd(e2e, lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)
    ow_local = _sgd(local, lr=0.1, momentum=0.9, weight_decay=1e-4, nesterov=True)
    for step in range(3):
        data = _batch(8, seed=step)
        log_e2e = e2e.train_step(copy.deepcopy(data), ow_e2e)
        log_local = local.train_step(copy.deepcopy(data), ow_local)
        assert log_local['loss'] == pytest.approx(log_e2e['loss'].item(), abs=1e-6)
    for (name, a), b in zip(e2e.state_dict().items(), local.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5, msg=name)
    assert ow_local._inner_count == ow_e2e._inner_count == 3


def test_eval_forward_equals_plain_classifier():
    model = _build(_cfg(20, [[2, 1]], (1, 1)))
    plain = MODELS.build(dict(
        type='mmpretrain.ImageClassifier',
        backbone=dict(type='dynamicnet.CIFARResNet', depth=20),
        neck=dict(type='mmpretrain.GlobalAveragePooling'),
        head=dict(type='mmpretrain.LinearClsHead', num_classes=10, in_channels=64),
        data_preprocessor=dict(type='mmpretrain.ClsDataPreprocessor', mean=MEAN, std=STD)))
    missing, unexpected = plain.load_state_dict(model.state_dict(), strict=False)
    assert not missing and all(k.startswith(('decoders', 'local_heads')) for k in unexpected)
    model.eval(), plain.eval()
    x = torch.rand(3, 3, 32, 32)
    torch.testing.assert_close(model(x, mode='tensor'), plain(x, mode='tensor'))


def test_checkpointing_inside_modules_keeps_gradients_and_bn_stats():
    cfg = _cfg(20, [[1, 2], [2, 1]], (1.0, 0.5, 0.5, 1.0))
    plain, ckpt = _build(cfg), _build(dict(cfg, checkpoint_modules=True))
    data = _batch(8)
    plain.train_step(copy.deepcopy(data), _sgd(plain))
    ckpt.train_step(copy.deepcopy(data), _sgd(ckpt))
    for (name, a), b in zip(plain.state_dict().items(), ckpt.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=name)


def test_async_variant():
    from dynamicnet.engine.infopro_optim import InfoProOptimWrapperConstructor
    cfg = _cfg(20, [[1, 2], [2, 1]], (1.0, 0.5, 0.5, 1.0))
    optim = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.5))
    sync = _build(cfg)
    stale0 = _build(dict(cfg, async_cfg=dict(staleness=0)))
    stale1 = _build(dict(cfg, async_cfg=dict(staleness=1)))
    ow_sync = _sgd(sync, lr=0.5)
    ow0 = InfoProOptimWrapperConstructor(optim)(stale0)
    ow1 = InfoProOptimWrapperConstructor(optim)(stale1)
    assert list(ow0.keys()) == ['module0', 'module1', 'module2']
    n_params = sum(len(w.optimizer.param_groups[0]['params']) for w in ow0.values())
    assert n_params == len(list(stale0.parameters()))
    start = [p.detach().clone() for p in stale1.parameters()]
    for step in range(3):
        data = _batch(8, seed=step)
        sync.train_step(copy.deepcopy(data), ow_sync)
        stale0.train_step(copy.deepcopy(data), ow0)
        log = stale1.train_step(copy.deepcopy(data), ow1)
        if step == 0:
            # staleness 1: in the first iteration only module 0 has an input
            moved = {id(p) for p, p0 in zip(stale1.parameters(), start) if not torch.equal(p, p0)}
            # (a subset: zero-initialised residual BNs leave some convs with zero gradient)
            assert moved and moved <= set(map(id, stale1.local_module_view(0).parameters()))
            assert set(log) == {'loss', 'local0.loss_recon', 'local0.loss_task'}
        if step == 1:
            assert 'local1.loss_task' in log and 'loss_cls' not in log
    # staleness 0 is the synchronous step
    for a, b in zip(sync.state_dict().values(), stale0.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    # module 2 first runs in iteration 3, on module 1's output of iteration 2
    assert 'loss_cls' in log
    assert len(stale1._async_queues[1]) == len(stale1._async_queues[2]) == 1
    with pytest.raises(TypeError):
        stale0.train_step(_batch(8), _sgd(stale0))


def test_rejects_gradient_accumulation():
    model = _build(_cfg(20, [[2, 1]], (1, 1)))
    wrapper = OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), accumulative_counts=2)
    with pytest.raises(ValueError, match='accumulative_counts'):
        model.train_step(_batch(4), wrapper)


def test_gradient_clipping_applies_once_to_the_accumulated_gradients():
    cfg = _cfg(20, [[1, 2], [2, 1]], (1.0, 0.5, 0.5, 1.0))
    clipped, reference = _build(cfg), _build(cfg)
    data = _batch(8)
    wrapper = OptimWrapper(torch.optim.SGD(clipped.parameters(), lr=1.0),
                           clip_grad=dict(max_norm=0.5))
    before = [p.detach().clone() for p in clipped.parameters()]
    clipped.train_step(copy.deepcopy(data), wrapper)
    pre = reference.data_preprocessor(copy.deepcopy(data), True)
    sum(reference.loss(pre['inputs'], pre['data_samples']).values()).backward()
    grads = [p.grad if p.grad is not None else torch.zeros_like(p)
             for p in reference.parameters()]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads]))
    assert norm > 0.5  # clipping is active
    scale = 0.5 / (norm + 1e-6)
    for p0, p1, g in zip(before, clipped.parameters(), grads):
        torch.testing.assert_close(p0 - p1, g * scale, atol=1e-6, rtol=1e-4)


def test_checkpoint_round_trip_restores_the_auxiliary_nets(tmp_path):
    from mmengine.runner import load_checkpoint, save_checkpoint
    cfg = _cfg(20, [[1, 2], [2, 1]], (1.0, 0.5, 0.5, 1.0))
    trained = _build(cfg, seed=0)
    trained.train_step(_batch(8), _sgd(trained, lr=0.1))
    save_checkpoint(trained.state_dict(), str(tmp_path / 'ckpt.pth'))
    restored = _build(cfg, seed=1)
    load_checkpoint(restored, str(tmp_path / 'ckpt.pth'), strict=True)
    trained.eval(), restored.eval()
    h = torch.rand(2, 32, 16, 16)
    torch.testing.assert_close(restored.decoders[1](h, size=(32, 32)),
                               trained.decoders[1](h, size=(32, 32)))
    torch.testing.assert_close(restored.local_heads[1](h), trained.local_heads[1](h))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_amp_local_backwards_use_the_loss_scaler():
    from mmengine.optim import AmpOptimWrapper
    model = _build(_cfg(20, [[1, 2], [2, 1]], (1.0, 0.5, 0.5, 1.0))).cuda()
    wrapper = AmpOptimWrapper(optimizer=torch.optim.SGD(model.parameters(), lr=0.05),
                              clip_grad=dict(max_norm=5.0))
    data = _batch(16, size=32)
    losses = [float(model.train_step(copy.deepcopy(data), wrapper)['loss']) for _ in range(10)]
    assert all(math.isfinite(v) for v in losses) and losses[-1] < losses[0]
    assert wrapper._inner_count == 10 and wrapper.loss_scaler.get_scale() > 1
