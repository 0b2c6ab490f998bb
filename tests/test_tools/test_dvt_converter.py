# Copyright (c) dynamicnet contributors. All rights reserved.
"""tools/model_converters/dvt_official_to_dynamicnet.py against the official layout and forward.

``OfficialDVT`` below is an independent re-implementation of the official ``DVT_T2t_vit_12``
forward (``blackfeather-wang/Dynamic-Vision-Transformer``: ``models/t2t_vit.py``,
``token_performer.py``, ``transformer_block.py``) written with the official module names and the
wiring of ``../shared/specs/dvt.md`` §3-§5 (resampling with the official hard-coded 14/20
intermediate sizes, zero CLS features, CLS rows/columns kept apart). Its parameter layout must
equal the recorded table ``../shared/specs/official-checkpoints/dvt_t2t_vit_12.tsv`` (names,
shapes and order); a random-weight state dict built from that table is loaded into it, converted,
loaded strictly into dynamicnet's model built from ``configs/dvt/dvt_t2t-vit-12_8xb128_in1k.py``,
and the three exits' logits must agree.
"""
import importlib.util
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.registry import init_default_scope

from dynamicnet.registry import MODELS

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'configs', 'dvt', 'dvt_t2t-vit-12_8xb128_in1k.py')


def _load_converter():
    path = osp.join(ROOT, 'tools', 'model_converters', 'dvt_official_to_dynamicnet.py')
    spec = importlib.util.spec_from_file_location('dvt_official_to_dynamicnet', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_layout(path):
    rows = []
    with open(path) as f:
        for line in f:
            if line.startswith('#') or not line.strip():
                continue
            name, shape = line.rstrip('\n').split('\t')
            rows.append((name, tuple(int(s) for s in shape.strip('()').split(',') if s.strip())))
    return rows


# ---------------- independent re-implementation of the official model --------------------------
def sinusoid_table(n_position, d_hid):
    table = np.array([[pos / np.power(10000, 2 * (j // 2) / d_hid) for j in range(d_hid)]
                      for pos in range(n_position)])
    table[:, 0::2] = np.sin(table[:, 0::2])
    table[:, 1::2] = np.cos(table[:, 1::2])
    return torch.FloatTensor(table).unsqueeze(0)


class Token_performer(nn.Module):

    def __init__(self, dim, in_dim, head_cnt=1, kernel_ratio=0.5):
        super().__init__()
        self.emb = in_dim * head_cnt
        self.kqv = nn.Linear(dim, 3 * self.emb)
        self.proj = nn.Linear(self.emb, self.emb)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(self.emb)
        self.mlp = nn.Sequential(
            nn.Linear(self.emb, self.emb), nn.GELU(), nn.Linear(self.emb, self.emb))
        self.m = int(self.emb * kernel_ratio)
        self.w = nn.Parameter(torch.randn(self.m, self.emb), requires_grad=False)

    def prm_exp(self, x):
        xd = ((x * x).sum(dim=-1, keepdim=True)).repeat(1, 1, self.m) / 2
        wtx = torch.einsum('bti,mi->btm', x.float(), self.w)
        return torch.exp(wtx - xd) / math.sqrt(self.m)

    def forward(self, x):
        k, q, v = torch.split(self.kqv(self.norm1(x)), self.emb, dim=-1)
        kp, qp = self.prm_exp(k), self.prm_exp(q)
        D = torch.einsum('bti,bi->bt', qp, kp.sum(dim=1)).unsqueeze(dim=2)
        kptv = torch.einsum('bin,bim->bnm', v.float(), kp)
        y = torch.einsum('bti,bni->btn', qp, kptv) / (D.repeat(1, 1, self.emb) + 1e-8)
        y = v + self.proj(y)
        return y + self.mlp(self.norm2(y))


class T2T_module(nn.Module):

    def __init__(self, split0, embed_dim, token_dim=64):
        super().__init__()
        k, s, p = split0
        self.split0 = split0
        self.attention1 = Token_performer(dim=3 * k * k, in_dim=token_dim)
        self.attention2 = Token_performer(dim=token_dim * 3 * 3, in_dim=token_dim)
        self.project = nn.Linear(token_dim * 3 * 3, embed_dim)

    def forward(self, x):
        k, s, p = self.split0
        x = F.unfold(x, kernel_size=k, stride=s, padding=p).transpose(1, 2)
        for attn in (self.attention1, self.attention2):
            x = attn(x)
            B, new_HW, C = x.shape
            side = int(np.sqrt(new_HW))
            x = x.transpose(1, 2).reshape(B, C, side, side)
            x = F.unfold(x, kernel_size=3, stride=2, padding=1).transpose(1, 2)
        return self.project(x)


class Mlp(nn.Module):

    def __init__(self, in_features, hidden_features, out_features):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_features, out_features)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Attention(nn.Module):

    def __init__(self, dim, num_heads):
        super().__init__()
        self.num_heads = num_heads
        self.scale = (dim // num_heads)**-0.5
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x, relation=None):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.num_heads, C // self.num_heads)
        qkv = qkv.permute(2, 0, 3, 1, 4)
        q, k, v = qkv[0], qkv[1], qkv[2]
        attn = (q @ k.transpose(-2, -1)) * self.scale
        if relation is not None:
            attn = attn + relation
        attn_logits = attn
        attn = attn.softmax(dim=-1)
        x = (attn @ v).transpose(1, 2).reshape(B, N, C)
        return self.proj(x), attn_logits


def upsample_avgpool(x, target_tokens):
    """Official resampling: nearest to 14 (target 100 tokens) or 20, then adaptive avg pool."""
    side = int(math.sqrt(target_tokens))
    size = 14 if target_tokens == 100 else 20
    return F.adaptive_avg_pool2d(F.interpolate(x, size=(size, size), mode='nearest'), (side, side))


class Block(nn.Module):

    def __init__(self, dim, num_heads, mlp_ratio, feature_reuse):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, num_heads)
        extra = 48 if feature_reuse else 0
        self.norm2 = nn.LayerNorm(dim + extra)
        self.mlp = Mlp(dim + extra, int(dim * mlp_ratio), dim)
        self.feature_reuse = feature_reuse
        if feature_reuse:
            self.feature_resuse_mlp = nn.Sequential(nn.LayerNorm(dim), Mlp(dim, 128, 48))

    def forward(self, x, features_to_be_reused=None, relation=None):
        out, attn_logits = self.attn(self.norm1(x), relation)
        x = x + out
        if self.feature_reuse:
            feat = self.feature_resuse_mlp(features_to_be_reused)
            B, n1, C = feat.shape
            side = int(math.sqrt(n1 - 1))
            feat = feat[:, 1:].transpose(1, 2).reshape(B, C, side, side)
            feat = upsample_avgpool(feat, x.shape[1] - 1).flatten(2).transpose(1, 2)
            feat = torch.cat((torch.zeros(B, 1, C), feat), dim=1)
            x = x + self.mlp(self.norm2(torch.cat((x, feat), dim=2)))
        else:
            x = x + self.mlp(self.norm2(x))
        return x, attn_logits


class T2T_ViT(nn.Module):

    def __init__(self, split0, embed_dim=256, depth=12, num_heads=4, mlp_ratio=2.,
                 num_classes=1000, feature_reuse=False, relation_reuse=False):
        super().__init__()
        self.tokens_to_token = T2T_module(split0, embed_dim)
        k, s, p = split0
        side = ((224 + 2 * p - k) // s + 1 + 3) // 4
        self.num_patches = side * side
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = sinusoid_table(self.num_patches + 1, embed_dim)  # not a parameter
        self.blocks = nn.ModuleList(
            [Block(embed_dim, num_heads, mlp_ratio, feature_reuse) for _ in range(depth)])
        self.norm = nn.LayerNorm(embed_dim)
        self.relation_reuse = relation_reuse
        self.depth, self.num_heads = depth, num_heads
        if relation_reuse:
            hl = depth * num_heads
            self.relation_reuse_conv = nn.Sequential(
                nn.Conv2d(hl, hl * 3, 1), nn.GELU(), nn.Conv2d(hl * 3, hl, 1))
        self.head = nn.Linear(embed_dim, num_classes)

    def relations(self, relations_to_be_reused_list):
        rel = self.relation_reuse_conv(torch.cat(relations_to_be_reused_list, dim=1))
        B, hl, n1, _ = rel.shape
        side = int(math.sqrt(n1 - 1))
        m = self.num_patches
        rel = rel.reshape(B * hl, n1, n1)
        keys = upsample_avgpool(rel[:, :, 1:].reshape(B * hl, n1, side, side), m)
        rel = torch.cat((rel[:, :, :1], keys.flatten(2)), dim=2)  # (B hl, n+1, m+1)
        rel = rel.transpose(1, 2)  # (B hl, m+1 keys, n+1 queries)
        queries = upsample_avgpool(rel[:, :, 1:].reshape(B * hl, m + 1, side, side), m)
        rel = torch.cat((rel[:, :, :1], queries.flatten(2)), dim=2).transpose(1, 2)
        return rel.reshape(B, hl, m + 1, m + 1).chunk(self.depth, dim=1)

    def forward(self, x, features_to_be_reused_list=None, relations_to_be_reused_list=None):
        B = x.shape[0]
        x = self.tokens_to_token(x)
        x = torch.cat((self.cls_token.expand(B, -1, -1), x), dim=1) + self.pos_embed
        rels = [None] * self.depth
        if self.relation_reuse:
            rels = self.relations(relations_to_be_reused_list)
        feature = None if features_to_be_reused_list is None else features_to_be_reused_list[-1]
        feature_list, attn_list = [], []
        for blk, rel in zip(self.blocks, rels):
            x, attn = blk(x, feature, rel)
            feature_list.append(x)
            attn_list.append(attn)
        return self.head(self.norm(x)[:, 0]), feature_list, attn_list


class OfficialDVT(nn.Module):

    def __init__(self):
        super().__init__()
        self.less_less_token = T2T_ViT((14, 8, 3))
        self.less_token = T2T_ViT((11, 6, 5), feature_reuse=True, relation_reuse=True)
        self.normal_token = T2T_ViT((7, 4, 2), feature_reuse=True, relation_reuse=True)

    def forward(self, x):
        out1, feats, rels = self.less_less_token(x)
        out2, feats, rels = self.less_token(x, feats, rels)
        out3, _, _ = self.normal_token(x, feats, rels)
        return out1, out2, out3


# ---------------- tests -------------------------------------------------------------------------
@pytest.fixture(scope='module')
def layout(official_table):
    return read_layout(official_table('dvt_t2t_vit_12.tsv'))


@pytest.fixture(scope='module')
def official_state(layout):
    """Random weights in the recorded official layout, scaled to keep activations sane."""
    gen = torch.Generator().manual_seed(0)
    state = {}
    for name, shape in layout:
        if name.endswith('.w'):  # performer random features: rows of norm about sqrt(m)
            value = torch.randn(shape, generator=gen)
        elif len(shape) == 1 and ('norm' in name or 'feature_resuse_mlp.0' in name):
            base = 1.0 if name.endswith('weight') else 0.0
            value = base + 0.1 * torch.randn(shape, generator=gen)
        else:
            value = 0.05 * torch.randn(shape, generator=gen)
        state[name] = value
    return state


def test_official_transcription_has_the_recorded_layout(layout):
    ours = [(n, tuple(p.shape)) for n, p in OfficialDVT().named_parameters()]
    assert ours == layout


@pytest.fixture(scope='module')
def models(official_state):
    init_default_scope('mmpretrain')
    official = OfficialDVT().eval()
    official.load_state_dict(official_state, strict=True)
    converter = _load_converter()
    converted = converter.convert_dvt(official_state)
    cfg = Config.fromfile(CONFIG)
    model = MODELS.build(cfg.model).eval()
    result = model.load_state_dict(converted, strict=False)
    return official, model, result


def test_converted_state_dict_loads_without_missing_or_unexpected_keys(models):
    _, _, result = models
    assert result.missing_keys == [] and result.unexpected_keys == []


def test_converted_model_gives_the_official_outputs(models):
    official, model, _ = models
    torch.manual_seed(0)
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected = official(images)
        got = model.forward_exits(images)
    for k, (e, g) in enumerate(zip(expected, got)):
        assert e.abs().max() > 0.05, f'exit {k}: degenerate reference output'
        torch.testing.assert_close(g, e, rtol=1e-4, atol=1e-4, msg=f'exit {k + 1}')
    # the reuse paths matter for this comparison: exit 2 changes when exit 1 changes
    weight = official.less_less_token.blocks[-1].mlp.fc2.weight
    saved = weight.detach().clone()
    with torch.no_grad():
        weight.mul_(3.0)
        assert (official(images)[1] - expected[1]).abs().max() > 1e-3
        weight.copy_(saved)


def test_pos_embed_and_unknown_keys(official_state):
    converter = _load_converter()
    state = dict(official_state)
    state['module.less_token.pos_embed'] = sinusoid_table(101, 256)
    converted = converter.convert_dvt(state)
    assert not any('pos_embed' in k for k in converted)
    state['module.less_token.pos_embed'] = torch.zeros(1, 101, 256)
    with pytest.raises(ValueError, match='sinusoidal'):
        converter.convert_dvt(state)
    with pytest.raises(KeyError):
        converter.convert_dvt({'less_token.unknown.weight': torch.zeros(1)})


def test_cli_round_trip(official_state, tmp_path):
    converter = _load_converter()
    src, dst = tmp_path / 'official.pth', tmp_path / 'dynamicnet.pth'
    torch.save({'model': official_state, 'epoch': 3}, src)
    converter.main([str(src), str(dst)])
    ckpt = torch.load(dst, map_location='cpu')
    assert set(ckpt) == {'state_dict', 'meta'}
    assert len(ckpt['state_dict']) == len(official_state)
    assert torch.equal(ckpt['state_dict']['heads.2.layers.head.weight'],
                       official_state['normal_token.head.weight'])


def test_deit_names_convert_and_load_strictly():
    """DVT_Deit_small uses timm's ViT names; the same rules must cover them (small arch)."""
    init_default_scope('mmpretrain')
    arch = dict(embed_dims=48, num_layers=2, num_heads=3, feedforward_channels=96)
    common = dict(type='dynamicnet.DVTVisionTransformer', arch=arch, img_size=64)
    model = MODELS.build(
        dict(
            type='dynamicnet.DVT',
            backbones=[
                dict(common, patch_size=32),
                dict(common, patch_size=16, feature_reuse=True, relation_reuse=True)
            ],
            head=dict(type='mmpretrain.VisionTransformerClsHead', num_classes=7)))
    gen = torch.Generator().manual_seed(0)
    official = {}
    for exit_name, backbone in zip(('less_less_token', 'less_token'), model.backbones):
        shapes = {
            'cls_token': (1, 1, 48),
            'pos_embed': tuple(backbone.pos_embed.shape),
            'patch_embed.proj.weight': (48, 3) + backbone.patch_embed.projection.kernel_size,
            'patch_embed.proj.bias': (48, ),
            'norm.weight': (48, ),
            'norm.bias': (48, ),
            'head.weight': (7, 48),
            'head.bias': (7, ),
        }
        extra = 48 if backbone.feature_reuse else 0
        for i in range(2):
            b = f'blocks.{i}.'
            shapes.update({
                b + 'norm1.weight': (48, ), b + 'norm1.bias': (48, ),
                b + 'attn.qkv.weight': (144, 48), b + 'attn.qkv.bias': (144, ),
                b + 'attn.proj.weight': (48, 48), b + 'attn.proj.bias': (48, ),
                b + 'norm2.weight': (48 + extra, ), b + 'norm2.bias': (48 + extra, ),
                b + 'mlp.fc1.weight': (96, 48 + extra), b + 'mlp.fc1.bias': (96, ),
                b + 'mlp.fc2.weight': (48, 96), b + 'mlp.fc2.bias': (48, ),
            })
            if backbone.feature_reuse:
                shapes.update({
                    b + 'feature_resuse_mlp.0.weight': (48, ),
                    b + 'feature_resuse_mlp.0.bias': (48, ),
                    b + 'feature_resuse_mlp.1.fc1.weight': (128, 48),
                    b + 'feature_resuse_mlp.1.fc1.bias': (128, ),
                    b + 'feature_resuse_mlp.1.fc2.weight': (48, 128),
                    b + 'feature_resuse_mlp.1.fc2.bias': (48, ),
                })
        if backbone.relation_reuse:
            shapes.update({
                'relation_reuse_conv.0.weight': (18, 6, 1, 1), 'relation_reuse_conv.0.bias': (18, ),
                'relation_reuse_conv.2.weight': (6, 18, 1, 1), 'relation_reuse_conv.2.bias': (6, ),
            })
        for key, shape in shapes.items():
            official[f'module.{exit_name}.{key}'] = torch.randn(shape, generator=gen)
    converted = _load_converter().convert_dvt(official)
    model.load_state_dict(converted, strict=True)
    torch.testing.assert_close(model.backbones[1].pos_embed.detach(),
                               official['module.less_token.pos_embed'])
    torch.testing.assert_close(model.backbones[0].patch_embed.projection.weight.detach(),
                               official['module.less_less_token.patch_embed.proj.weight'])
