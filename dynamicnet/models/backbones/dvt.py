# Copyright (c) dynamicnet contributors. All rights reserved.
"""Exit backbones of DVT with feature reuse and relationship reuse.

Paper: "Not All Images are Worth 16x16 Words: Dynamic Transformers for Efficient Image
Recognition", Y. Wang, R. Huang, S. Song, Z. Huang, G. Huang, NeurIPS 2021 (arXiv 2105.15075).
Official code: ``blackfeather-wang/Dynamic-Vision-Transformer`` (commit 22cc895). Spec:
``../shared/specs/dvt.md``.

DVT is a cascade of complete, independently parameterised ViTs that tokenise the whole image into
7x7, 10x10 and 14x14 tokens. Each exit here is one backbone; the cascade, the heads and the
early exit live in :class:`dynamicnet.models.classifiers.DVT`. A downstream exit reuses its
upstream neighbour (``dvt.md`` §4-§5)::

    upstream exit (n tokens)                         downstream exit (m tokens)
    tokens -> block_1 ... block_L -> Z -> norm -> head
               |A_1        |A_L     |
               |           |        +-> per block l: LN -> Linear(D,128) -> GELU -> Linear(128,48)
               |           |            -> drop CLS, resample g_n -> g_m, zero CLS row -> E_l
               |           |            block l:  x = x + Attn(LN1(x); bias R_l)
               |           |                      x = x + MLP(LN2([x || E_l]))
               +-----------+-> concat heads (B, hL, n+1, n+1) -> Conv1x1(hL,3hL) -> GELU
                               -> Conv1x1(3hL,hL) -> resample keys then queries (CLS kept apart)
                               -> chunk(L) -> R_1 .. R_L (B, h, m+1, m+1), added to the scaled
                                  logits of block l; block l exports QK^T*scale + R_l

Building blocks come from mmpretrain / mmcv (``MultiheadAttention``, ``FFN``, ``PatchEmbed``,
``get_sinusoid_encoding``, ``T2TModule._get_unfold_size``); parameter names follow mmpretrain's
``T2T_ViT`` / ``VisionTransformer`` layers (``ln1``, ``attn.qkv``, ``attn.proj``, ``ln2``,
``ffn.layers``) except that both backbones call their encoder ``layers`` and the final norm
``norm``. With both reuse switches off, :class:`DVTVisionTransformer` computes exactly
mmpretrain's ``VisionTransformer`` (tested), and :class:`DVTT2TViT` the T2T-ViT of the official
code (Performer tokens-to-token, fixed sinusoidal position embedding).
"""
from abc import abstractmethod
import math
from typing import List, NamedTuple, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn.bricks.transformer import FFN, PatchEmbed
from mmengine.model import BaseModule, ModuleList
from mmengine.model.weight_init import trunc_normal_
from mmpretrain.models.backbones.base_backbone import BaseBackbone
from mmpretrain.models.backbones.t2t_vit import T2TModule, get_sinusoid_encoding
from mmpretrain.models.utils import MultiheadAttention, build_norm_layer, to_2tuple
from torch import Tensor

from dynamicnet.registry import MODELS

__all__ = [
    'ReuseState', 'resample_tokens', 'resample_relations', 'RelationAwareAttention',
    'FeatureReuse', 'RelationReuse', 'DVTTransformerLayer', 'TokenPerformer',
    'PerformerT2TModule', 'DVTViTBase', 'DVTT2TViT', 'DVTVisionTransformer'
]

HW = Tuple[int, int]


class ReuseState(NamedTuple):
    """What an exit hands to its downstream neighbour.

    Attributes:
        features: Output of the last block **before** the final norm, ``(B, n + 1, D)``.
        relations: Pre-softmax attention logits of every block (scaled, reuse bias included),
            each ``(B, h, n + 1, n + 1)``.
        hw: Token grid ``(g_h, g_w)`` with ``g_h * g_w = n``.
    """
    features: Tensor
    relations: List[Tensor]
    hw: HW


def resample_tokens(x: Tensor, src_hw: HW, dst_hw: HW) -> Tensor:
    """Resample a token grid the way DVT does (``dvt.md`` §4 step 3, pitfall 4).

    Nearest-neighbour upsampling to an intermediate square grid, then adaptive average pooling to
    the target grid. The intermediate side is the official code's: 14 when the target has 100
    tokens (7 -> 10), 20 otherwise (10 -> 14, and any other pair).

    Args:
        x: ``(N, C, g_h * g_w)``: positions last, any channels.
        src_hw: Source grid.
        dst_hw: Target grid.

    Returns:
        ``(N, C, dst_h * dst_w)``.
    """
    num, channels, length = x.shape
    assert length == src_hw[0] * src_hw[1], f'{length} positions do not form a {src_hw} grid'
    x = x.reshape(num, channels, *src_hw)
    side = 14 if dst_hw[0] * dst_hw[1] == 100 else 20
    x = F.interpolate(x, size=(side, side), mode='nearest')
    x = F.adaptive_avg_pool2d(x, dst_hw)
    return x.flatten(2)


def resample_relations(rel: Tensor, src_hw: HW, dst_hw: HW) -> Tensor:
    """Resample relation maps along keys, then queries, keeping the CLS row/column apart.

    ``dvt.md`` §5 steps 3-4.

    Args:
        rel: ``(B, C, n + 1, n + 1)`` (query, key), CLS at index 0.
        src_hw: Upstream grid (``n = g_h * g_w``).
        dst_hw: Downstream grid (``m``).

    Returns:
        ``(B, C, m + 1, m + 1)``.
    """
    batch, channels, n1, _ = rel.shape
    rel = rel.reshape(batch * channels, n1, n1)
    # keys: query rows act as channels
    keys = resample_tokens(rel[:, :, 1:], src_hw, dst_hw)
    rel = torch.cat([rel[:, :, :1], keys], dim=2).transpose(1, 2)  # (BC, m+1 keys, n+1 queries)
    queries = resample_tokens(rel[:, :, 1:], src_hw, dst_hw)
    rel = torch.cat([rel[:, :, :1], queries], dim=2).transpose(1, 2)  # (BC, m+1, m+1)
    m1 = rel.shape[-1]
    return rel.reshape(batch, channels, m1, m1)


class RelationAwareAttention(MultiheadAttention):
    """mmpretrain's ``MultiheadAttention`` that adds a bias to the scaled logits and returns them.

    ``softmax(Q K^T * scale + bias)`` (``dvt.md`` §5 step 5, pitfall 3). Same parameters as the
    parent (``qkv``, ``proj``).

    Args:
        qk_scale: Logit scale; ``None`` means ``head_dims ** -0.5`` (DVT trains from scratch with
            it; ``D ** -0.5`` only matters for T2T-pretrained weights, ``dvt.md`` pitfall 8).
        **kwargs: As for :class:`mmpretrain.models.utils.MultiheadAttention`.
    """

    def __init__(self, *args, qk_scale: Optional[float] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.scale = qk_scale or self.head_dims**-0.5

    def forward(self, x: Tensor, bias: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Args: x ``(B, N, C_in)``; bias ``(B, h, N, N)`` or None.

        Returns:
            Output ``(B, N, C)`` (dropout and drop-path of the parent applied) and the logits
            ``(B, h, N, N)`` (bias included, pre-softmax).
        """
        batch, length, _ = x.shape
        qkv = self.qkv(x).reshape(batch, length, 3, self.num_heads, self.head_dims)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)
        logits = (q @ k.transpose(-2, -1)) * self.scale
        if bias is not None:
            logits = logits + bias
        attn = F.dropout(logits.softmax(dim=-1), self.attn_drop, self.training)
        out = (attn @ v).transpose(1, 2).reshape(batch, length, self.embed_dims)
        out = self.out_drop(self.gamma1(self.proj_drop(self.proj(out))))
        return out, logits

    def count_macs(self, inputs: Tuple, output) -> int:
        """qkv and output projections plus the two attention matmuls (fvcore convention)."""
        batch, length, in_dims = inputs[0].shape
        linear = batch * length * (in_dims * 3 * self.embed_dims + self.embed_dims**2)
        matmuls = 2 * batch * self.num_heads * length * length * self.head_dims
        return linear + matmuls


class FeatureReuse(BaseModule):
    """Per-block feature-reuse branch (``dvt.md`` §4 steps 1-4).

    ``E = Linear(hidden -> C)(GELU(Linear(D -> hidden)(LN(Z))))`` on the upstream tokens, CLS
    dropped, grid resampled to the downstream grid, a zero CLS row prepended.

    Args:
        in_dims: Upstream embedding dims D.
        out_channels: Reused channels C (48 in the official code).
        hidden_channels: Hidden width (128).
        drop_rate: Dropout after each linear layer (the official ``Mlp``'s ``drop``).
        norm_cfg: Norm config of the input LayerNorm.
    """

    def __init__(self,
                 in_dims: int,
                 out_channels: int = 48,
                 hidden_channels: int = 128,
                 drop_rate: float = 0.,
                 norm_cfg: dict = dict(type='LN'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        self.norm = build_norm_layer(norm_cfg, in_dims)
        self.fc1 = nn.Linear(in_dims, hidden_channels)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_channels, out_channels)
        self.drop = nn.Dropout(drop_rate)

    def forward(self, upstream: Tensor, src_hw: HW, dst_hw: HW) -> Tensor:
        """Args: upstream ``(B, n + 1, D)`` pre-norm tokens. Returns ``(B, m + 1, C)``."""
        feat = self.drop(self.fc2(self.drop(self.act(self.fc1(self.norm(upstream))))))
        patches = resample_tokens(feat[:, 1:].transpose(1, 2), src_hw, dst_hw).transpose(1, 2)
        return torch.cat([patches.new_zeros(patches.shape[0], 1, patches.shape[2]), patches], 1)


class RelationReuse(BaseModule):
    """Relationship-reuse MLP over all upstream attention logits (``dvt.md`` §5 steps 1-5).

    ``Conv1x1(hL -> ratio*hL) -> GELU -> Conv1x1(-> hL)`` applied per (query, key) position,
    then keys and queries are resampled to the downstream grid and the result is split into L
    per-block biases. Its 1x1 convolutions are counted by the generic conv rule:
    ``2 * ratio * (hL)^2 * (n + 1)^2`` MACs.

    Args:
        num_layers: L (same for upstream and downstream).
        num_heads: h (same for upstream and downstream).
        mlp_ratio: Hidden expansion of the 1x1-conv MLP (3 in the official code).
    """

    def __init__(self,
                 num_layers: int,
                 num_heads: int,
                 mlp_ratio: int = 3,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        channels = num_layers * num_heads
        self.num_layers = num_layers
        self.mlp = nn.Sequential(
            nn.Conv2d(channels, mlp_ratio * channels, 1), nn.GELU(),
            nn.Conv2d(mlp_ratio * channels, channels, 1))

    def forward(self, relations: Sequence[Tensor], src_hw: HW, dst_hw: HW) -> Tuple[Tensor, ...]:
        """Args: relations, L tensors ``(B, h, n+1, n+1)``.

        Returns:
            L tensors ``(B, h, m+1, m+1)``.
        """
        assert len(relations) == self.num_layers, \
            f'relation reuse needs {self.num_layers} upstream layers, got {len(relations)}'
        rel = self.mlp(torch.cat(list(relations), dim=1))
        return resample_relations(rel, src_hw, dst_hw).chunk(self.num_layers, dim=1)


class DVTTransformerLayer(BaseModule):
    """Pre-norm ViT block with optional feature reuse and an attention-logit bias.

    Without feature reuse it is mmpretrain's ``TransformerEncoderLayer`` (same parameter names,
    same computation). With feature reuse (``dvt.md`` §4 step 5)::

        x = x + DropPath(Attn(LN1(x), bias))
        x = x + DropPath(MLP(LN2([x || E])))       # LN2 over D + C, MLP: D + C -> ff -> D

    Args:
        embed_dims: D.
        num_heads: h.
        feedforward_channels: MLP hidden width.
        qkv_bias: Bias of the qkv projection.
        qk_scale: See :class:`RelationAwareAttention`.
        feature_reuse: Build the feature-reuse branch.
        reuse_in_dims: Upstream D for the branch (default: ``embed_dims``).
        reuse_channels: C, channels concatenated to the MLP input.
        reuse_hidden_channels: Hidden width of the branch.
        drop_rate, attn_drop_rate, drop_path_rate: Dropout rates as in mmpretrain.
        act_cfg, norm_cfg: Activation and norm configs.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 feedforward_channels: int,
                 qkv_bias: bool = True,
                 qk_scale: Optional[float] = None,
                 feature_reuse: bool = False,
                 reuse_in_dims: Optional[int] = None,
                 reuse_channels: int = 48,
                 reuse_hidden_channels: int = 128,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 act_cfg: dict = dict(type='GELU'),
                 norm_cfg: dict = dict(type='LN'),
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        self.ln1 = build_norm_layer(norm_cfg, embed_dims)
        self.attn = RelationAwareAttention(
            embed_dims=embed_dims,
            num_heads=num_heads,
            attn_drop=attn_drop_rate,
            proj_drop=drop_rate,
            dropout_layer=dict(type='DropPath', drop_prob=drop_path_rate),
            qkv_bias=qkv_bias,
            qk_scale=qk_scale)
        extra = reuse_channels if feature_reuse else 0
        self.ln2 = build_norm_layer(norm_cfg, embed_dims + extra)
        self.ffn = FFN(
            embed_dims=embed_dims,
            feedforward_channels=feedforward_channels,
            num_fcs=2,
            ffn_drop=drop_rate,
            dropout_layer=dict(type='DropPath', drop_prob=drop_path_rate),
            act_cfg=act_cfg)
        if feature_reuse:
            # mmcv's FFN maps D -> D; only its first linear layer must see the C extra channels
            # (the residual uses x alone).
            self.ffn.layers[0][0] = nn.Linear(embed_dims + extra, feedforward_channels)
            self.feature_reuse = FeatureReuse(
                reuse_in_dims or embed_dims,
                out_channels=reuse_channels,
                hidden_channels=reuse_hidden_channels,
                drop_rate=drop_rate,
                norm_cfg=norm_cfg)
        else:
            self.feature_reuse = None

    def forward(self,
                x: Tensor,
                relation_bias: Optional[Tensor] = None,
                upstream: Optional[Tensor] = None,
                upstream_hw: Optional[HW] = None,
                hw: Optional[HW] = None) -> Tuple[Tensor, Tensor]:
        """Args:
            x: ``(B, m + 1, D)``.
            relation_bias: ``(B, h, m + 1, m + 1)`` or None.
            upstream: Upstream pre-norm tokens ``(B, n + 1, D_up)`` (used with feature reuse).
            upstream_hw, hw: Upstream and own token grids.

        Returns:
            ``(B, m + 1, D)`` and the attention logits ``(B, h, m + 1, m + 1)``.
        """
        attn_out, logits = self.attn(self.ln1(x), relation_bias)
        x = x + attn_out
        mlp_in = x
        if self.feature_reuse is not None:
            mlp_in = torch.cat([x, self.feature_reuse(upstream, upstream_hw, hw)], dim=2)
        x = self.ffn(self.ln2(mlp_in), identity=x)
        return x, logits


class TokenPerformer(BaseModule):
    """Performer token layer of the T2T module (official T2T-ViT ``Token_performer``).

    Linear-complexity attention with ``m = embed_dims * kernel_ratio`` positive random features;
    the value path is the shortcut (``y = v + proj(attn)``), then ``y + MLP(LN(y))``.

    Args:
        dims: Input token dims (``3 k^2`` or ``token_dims * 9``).
        embed_dims: Output token dims (``token_dim``, 64).
        kernel_ratio: ``m / embed_dims`` (0.5 -> m = 32).
        drop_rate: Dropout after the projection and after the MLP. 0.1 is T2T-ViT's
            ``Token_performer`` default as recalled (not in ``dvt.md``: [unconfirmed]); the fixed
            random features are ``orthogonal * sqrt(m)`` likewise.
    """

    def __init__(self,
                 dims: int,
                 embed_dims: int = 64,
                 kernel_ratio: float = 0.5,
                 drop_rate: float = 0.1,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        self.embed_dims = embed_dims
        self.kqv = nn.Linear(dims, 3 * embed_dims)
        self.dp = nn.Dropout(drop_rate)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.norm1 = nn.LayerNorm(dims)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.epsilon = 1e-8
        self.mlp = nn.Sequential(
            nn.Linear(embed_dims, embed_dims), nn.GELU(), nn.Linear(embed_dims, embed_dims),
            nn.Dropout(drop_rate))
        self.m = int(embed_dims * kernel_ratio)
        # fixed random features: a parameter without gradient, as in the official checkpoints
        self.w = nn.Parameter(
            nn.init.orthogonal_(torch.randn(self.m, embed_dims)) * math.sqrt(self.m),
            requires_grad=False)

    def prm_exp(self, x: Tensor) -> Tensor:
        """Positive random features ``exp(w^T x - |x|^2 / 2) / sqrt(m)``, ``(B, T, m)``."""
        xd = (x * x).sum(dim=-1, keepdim=True) / 2
        wtx = torch.einsum('bti,mi->btm', x.float(), self.w)
        return torch.exp(wtx - xd) / math.sqrt(self.m)

    def forward(self, x: Tensor) -> Tensor:
        """Args: x ``(B, T, dims)``. Returns ``(B, T, embed_dims)``."""
        k, q, v = torch.split(self.kqv(self.norm1(x)), self.embed_dims, dim=-1)
        kp, qp = self.prm_exp(k), self.prm_exp(q)
        denom = torch.einsum('bti,bi->bt', qp, kp.sum(dim=1)).unsqueeze(dim=2)
        kptv = torch.einsum('bin,bim->bnm', v.float(), kp)
        y = torch.einsum('bti,bni->btn', qp, kptv) / (denom + self.epsilon)
        y = v + self.dp(self.proj(y))
        return y + self.mlp(self.norm2(y))

    def count_macs(self, inputs: Tuple, output) -> int:
        """Linear layers and the four einsums (fvcore convention, norms and exp not counted)."""
        batch, length, dims = inputs[0].shape
        emb, m = self.embed_dims, self.m
        linear = batch * length * (dims * 3 * emb + 3 * emb * emb)
        einsums = batch * length * (2 * emb * m + m + 2 * emb * m)
        return linear + einsums


class PerformerT2TModule(BaseModule):
    """Tokens-to-token module with Performer layers and a configurable first soft split.

    ``soft_split0 -> TokenPerformer -> soft_split1 (3, 2, 1) -> TokenPerformer ->
    soft_split2 (3, 2, 1) -> Linear``. DVT's exits use ``soft_split0`` = (14, 8, 3), (11, 6, 5)
    and (7, 4, 2) for 7x7, 10x10 and 14x14 tokens at 224x224 (``dvt.md`` §3.1).

    Args:
        img_size: Nominal input size (sets the position-embedding length).
        in_channels: Image channels.
        embed_dims: Output token dims D.
        token_dims: Performer dims (64).
        soft_split0: ``(kernel, stride, padding)`` of the first unfold.
        kernel_ratio: Performer random-feature ratio.
        drop_rate: Dropout inside the Performer layers.
    """

    def __init__(self,
                 img_size: int = 224,
                 in_channels: int = 3,
                 embed_dims: int = 384,
                 token_dims: int = 64,
                 soft_split0: Sequence[int] = (7, 4, 2),
                 kernel_ratio: float = 0.5,
                 drop_rate: float = 0.1,
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        kernel, stride, padding = soft_split0
        self.soft_split0 = nn.Unfold(kernel_size=kernel, stride=stride, padding=padding)
        self.soft_split1 = nn.Unfold(kernel_size=3, stride=2, padding=1)
        self.soft_split2 = nn.Unfold(kernel_size=3, stride=2, padding=1)
        self.attention1 = TokenPerformer(
            in_channels * kernel * kernel, token_dims, kernel_ratio, drop_rate=drop_rate)
        self.attention2 = TokenPerformer(
            token_dims * 9, token_dims, kernel_ratio, drop_rate=drop_rate)
        self.project = nn.Linear(token_dims * 9, embed_dims)
        self.init_out_size = self.output_size(to_2tuple(img_size))

    def output_size(self, input_hw: HW) -> HW:
        """Token grid for an input of ``input_hw`` pixels."""
        hw = tuple(input_hw)
        for unfold in (self.soft_split0, self.soft_split1, self.soft_split2):
            hw = T2TModule._get_unfold_size(unfold, hw)
        return hw

    def forward(self, x: Tensor) -> Tuple[Tensor, HW]:
        """Args: x ``(B, 3, H, W)``. Returns tokens ``(B, g_h * g_w, D)`` and ``(g_h, g_w)``."""
        hw = T2TModule._get_unfold_size(self.soft_split0, x.shape[2:])
        x = self.soft_split0(x).transpose(1, 2)
        for attention, unfold in ((self.attention1, self.soft_split1),
                                  (self.attention2, self.soft_split2)):
            x = attention(x).transpose(1, 2)
            x = x.reshape(x.shape[0], x.shape[1], *hw)
            hw = T2TModule._get_unfold_size(unfold, hw)
            x = unfold(x).transpose(1, 2)
        return self.project(x), hw


class DVTViTBase(BaseBackbone):
    """Encoder shared by the T2T-ViT and DeiT exits: blocks, final norm, reuse modules.

    Subclasses provide :meth:`tokenize` (tokens with CLS and position embedding).

    Args:
        embed_dims, num_layers, num_heads, feedforward_channels: Transformer size.
        qkv_bias, qk_scale: Attention options.
        feature_reuse: Reuse the upstream exit's last-layer tokens in every block's MLP.
        relation_reuse: Add the upstream exit's (transformed) attention logits to every block.
        reuse_channels, reuse_hidden_channels: Feature-reuse widths (48, 128).
        relation_mlp_ratio: Expansion of the relation 1x1-conv MLP (3).
        drop_rate, attn_drop_rate, drop_path_rate: Regularisation (drop-path linearly
            increasing over depth, as timm / mmpretrain).
        norm_cfg: Norm config of blocks and final norm.
        out_type: ``'cls_token'`` (B, D), ``'raw'`` (B, N, D) or ``'featmap'``.
    """
    OUT_TYPES = {'cls_token', 'raw', 'featmap'}

    def __init__(self,
                 embed_dims: int,
                 num_layers: int,
                 num_heads: int,
                 feedforward_channels: int,
                 qkv_bias: bool = False,
                 qk_scale: Optional[float] = None,
                 feature_reuse: bool = False,
                 relation_reuse: bool = False,
                 reuse_channels: int = 48,
                 reuse_hidden_channels: int = 128,
                 relation_mlp_ratio: int = 3,
                 drop_rate: float = 0.,
                 attn_drop_rate: float = 0.,
                 drop_path_rate: float = 0.,
                 norm_cfg: dict = dict(type='LN'),
                 out_type: str = 'cls_token',
                 init_cfg: Optional[dict] = None):
        super().__init__(init_cfg)
        if out_type not in self.OUT_TYPES:
            raise ValueError(f'out_type={out_type!r}; choose from {sorted(self.OUT_TYPES)}')
        self.out_type = out_type
        self.embed_dims = embed_dims
        self.num_layers = num_layers
        self.num_heads = num_heads
        self.feature_reuse = feature_reuse
        self.relation_reuse = relation_reuse
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.drop_after_pos = nn.Dropout(p=drop_rate)
        dpr = torch.linspace(0, drop_path_rate, num_layers).tolist()
        self.layers = ModuleList([
            DVTTransformerLayer(
                embed_dims,
                num_heads,
                feedforward_channels,
                qkv_bias=qkv_bias,
                qk_scale=qk_scale,
                feature_reuse=feature_reuse,
                reuse_channels=reuse_channels,
                reuse_hidden_channels=reuse_hidden_channels,
                drop_rate=drop_rate,
                attn_drop_rate=attn_drop_rate,
                drop_path_rate=dpr[i],
                norm_cfg=norm_cfg) for i in range(num_layers)
        ])
        self.norm = build_norm_layer(norm_cfg, embed_dims)
        self.relation_reuse_mlp = RelationReuse(
            num_layers, num_heads, relation_mlp_ratio) if relation_reuse else None

    @property
    def uses_upstream(self) -> bool:
        """Whether this exit reads a :class:`ReuseState` from its upstream neighbour."""
        return self.feature_reuse or self.relation_reuse

    @abstractmethod
    def tokenize(self, x: Tensor) -> Tuple[Tensor, HW]:
        """Image ``(B, 3, H, W)`` -> tokens ``(B, g_h g_w + 1, D)`` with CLS and position."""

    def _add_cls(self, x: Tensor) -> Tensor:
        return torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)

    def forward(self,
                x: Tensor,
                upstream: Optional[ReuseState] = None,
                return_state: bool = False):
        """Args:
            x: Images ``(B, 3, H, W)``.
            upstream: The upstream exit's state; required when a reuse switch is on.
            return_state: Also return this exit's :class:`ReuseState`.

        Returns:
            ``(out, )`` (mmpretrain backbone convention), or ``((out, ), state)``.
        """
        x, hw = self.tokenize(x)
        biases: Sequence[Optional[Tensor]] = [None] * self.num_layers
        if self.uses_upstream and upstream is None:
            raise ValueError('this DVT exit reuses its upstream exit: pass `upstream`')
        if self.relation_reuse:
            biases = self.relation_reuse_mlp(upstream.relations, upstream.hw, hw)
        up_feat = upstream.features if self.feature_reuse else None
        up_hw = upstream.hw if self.uses_upstream else None
        relations = []
        for layer, bias in zip(self.layers, biases):
            x, logits = layer(x, bias, up_feat, up_hw, hw)
            relations.append(logits)
        state = ReuseState(x, relations, hw)
        outs = (self._format_output(self.norm(x), hw), )
        return (outs, state) if return_state else outs

    def _format_output(self, x: Tensor, hw: HW) -> Tensor:
        if self.out_type == 'cls_token':
            return x[:, 0]
        if self.out_type == 'raw':
            return x
        return x[:, 1:].reshape(x.shape[0], *hw, -1).permute(0, 3, 1, 2)


@MODELS.register_module()
class DVTT2TViT(DVTViTBase):
    """One T2T-ViT exit of DVT (official ``T2T_ViT`` of ``models/t2t_vit.py``).

    Performer tokens-to-token with a per-exit first soft split, fixed sinusoidal position
    embedding (a non-persistent buffer, as it is absent from the official parameter layout),
    ``qkv_bias=False``. Weights are initialised as the official code (truncated normal 0.02 for
    linear layers, LayerNorm 1/0, CLS token truncated normal 0.02).

    Args:
        arch: ``'t2t-vit-12'``, ``'t2t-vit-14'`` or a dict with ``embed_dims``, ``num_layers``,
            ``num_heads``, ``mlp_ratio``.
        img_size: Nominal input size.
        in_channels: Image channels.
        soft_split0: ``(kernel, stride, padding)`` of the first unfold: (14, 8, 3) -> 7x7,
            (11, 6, 5) -> 10x10, (7, 4, 2) -> 14x14 tokens at 224x224.
        token_dims: Performer dims (64).
        kernel_ratio: Performer random-feature ratio (0.5).
        t2t_drop_rate: Dropout inside the Performer layers (official default 0.1).
        **kwargs: See :class:`DVTViTBase`.
    """
    arch_zoo = {
        't2t-vit-12': dict(embed_dims=256, num_layers=12, num_heads=4, mlp_ratio=2),
        't2t-vit-14': dict(embed_dims=384, num_layers=14, num_heads=6, mlp_ratio=3),
    }

    def __init__(self,
                 arch='t2t-vit-12',
                 img_size: int = 224,
                 in_channels: int = 3,
                 soft_split0: Sequence[int] = (7, 4, 2),
                 token_dims: int = 64,
                 kernel_ratio: float = 0.5,
                 t2t_drop_rate: float = 0.1,
                 **kwargs):
        arch = self.arch_zoo[arch] if isinstance(arch, str) else arch
        super().__init__(
            embed_dims=arch['embed_dims'],
            num_layers=arch['num_layers'],
            num_heads=arch['num_heads'],
            feedforward_channels=int(arch['embed_dims'] * arch['mlp_ratio']),
            **kwargs)
        self.tokens_to_token = PerformerT2TModule(
            img_size=img_size,
            in_channels=in_channels,
            embed_dims=self.embed_dims,
            token_dims=token_dims,
            soft_split0=soft_split0,
            kernel_ratio=kernel_ratio,
            drop_rate=t2t_drop_rate)
        self.patch_resolution = self.tokens_to_token.init_out_size
        num_patches = self.patch_resolution[0] * self.patch_resolution[1]
        self.register_buffer(
            'pos_embed', get_sinusoid_encoding(num_patches + 1, self.embed_dims), persistent=False)

    def init_weights(self):
        super().init_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            return
        for m in self.modules():
            if isinstance(m, nn.Linear):
                trunc_normal_(m.weight, std=.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.LayerNorm):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
        trunc_normal_(self.cls_token, std=.02)

    def tokenize(self, x: Tensor) -> Tuple[Tensor, HW]:
        x, hw = self.tokens_to_token(x)
        if tuple(hw) != tuple(self.patch_resolution):
            raise ValueError(f'input gives a {hw} token grid; the sinusoidal position embedding '
                             f'was built for {self.patch_resolution} (img_size)')
        x = self._add_cls(x) + self.pos_embed
        return self.drop_after_pos(x), hw


@MODELS.register_module()
class DVTVisionTransformer(DVTViTBase):
    """One DeiT exit of DVT (official ``models_deit.py``), on mmcv's ``PatchEmbed``.

    Patch embedding conv 32/32 -> 7x7, 23/23 with padding 3 -> 10x10 (the official
    ``num_patches=100`` special case, ``dvt.md`` pitfall 7), 16/16 -> 14x14 tokens at 224x224;
    learned position embedding; LayerNorm eps 1e-6; ``qkv_bias=True``. With both reuse switches
    off it computes exactly mmpretrain's ``VisionTransformer`` (``deit-small`` arch).

    Args:
        arch: ``'deit-small'`` or a dict with ``embed_dims``, ``num_layers``, ``num_heads``,
            ``feedforward_channels``.
        img_size: Nominal input size.
        in_channels: Image channels.
        patch_size: Kernel and stride of the patch embedding.
        patch_padding: Zero padding of the patch embedding (3 for 23 -> 10x10).
        **kwargs: See :class:`DVTViTBase`.
    """
    arch_zoo = {
        'deit-small': dict(embed_dims=384, num_layers=12, num_heads=6, feedforward_channels=1536),
    }

    def __init__(self,
                 arch='deit-small',
                 img_size: int = 224,
                 in_channels: int = 3,
                 patch_size: int = 16,
                 patch_padding: int = 0,
                 qkv_bias: bool = True,
                 norm_cfg: dict = dict(type='LN', eps=1e-6),
                 **kwargs):
        arch = self.arch_zoo[arch] if isinstance(arch, str) else arch
        super().__init__(qkv_bias=qkv_bias, norm_cfg=norm_cfg, **arch, **kwargs)
        self.patch_embed = PatchEmbed(
            in_channels=in_channels,
            embed_dims=self.embed_dims,
            conv_type='Conv2d',
            kernel_size=patch_size,
            stride=patch_size,
            padding=patch_padding,
            input_size=to_2tuple(img_size))
        self.patch_resolution = self.patch_embed.init_out_size
        num_patches = self.patch_resolution[0] * self.patch_resolution[1]
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, self.embed_dims))

    def init_weights(self):
        super().init_weights()
        if isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            return
        trunc_normal_(self.pos_embed, std=.02)
        trunc_normal_(self.cls_token, std=.02)
        for layer in self.layers:
            # mmpretrain's TransformerEncoderLayer initialisation of the FFN
            for m in layer.ffn.modules():
                if isinstance(m, nn.Linear):
                    nn.init.xavier_uniform_(m.weight)
                    nn.init.normal_(m.bias, std=1e-6)

    def tokenize(self, x: Tensor) -> Tuple[Tensor, HW]:
        x, hw = self.patch_embed(x)
        if tuple(hw) != tuple(self.patch_resolution):
            raise ValueError(f'input gives a {hw} token grid; the position embedding was built '
                             f'for {self.patch_resolution} (img_size)')
        x = self._add_cls(x) + self.pos_embed
        return self.drop_after_pos(x), hw
