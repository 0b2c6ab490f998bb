# Copyright (c) dynamicnet contributors. All rights reserved.
"""Pointformer backbone: "3D Object Detection with Pointformer" (Pan et al., CVPR 2021).

A VoteNet backbone in which each PointNet++ set-abstraction (SA) module is replaced by a
Pointformer block (``../shared/specs/pointformer.md`` §2-§7):

1. **Local Transformer**: D-FPS centres, ball-query groups, a position encoding of the
   neighbours' coordinates **relative to their centre**, a Transformer over each group's
   ``nsample`` neighbours, max-pooling over the neighbours and a 1×1 convolution.
2. **Local-Global Transformer** (optional, ``use_decoder``; off in the released configs): the
   centres attend to all input points of the block (one decoder layer), added residually.
3. **Global Transformer**: a position encoding of the centres' **absolute** coordinates, a
   Transformer over all centres and a 1×1 convolution to the block's output width.

The coordinate refinement of the paper was never released (official issue #5); it is available
as ``coord_refine=True`` following the spec's recollection (§7, [unconfirmed]): the centres move
to the attention-weighted mean of their neighbours, weighted by the centre's row of the last
local attention map averaged over heads.

Relative coordinates are computed here explicitly (``grouped_xyz - new_xyz``): mmdet3d >= 0.16
and mmcv return absolute grouped coordinates, which silently broke the official code on newer
versions (spec §10, pitfall 1).

Shapes: B batch, N input points, P centres of a block, K neighbours per centre, C width.
Block inputs and outputs are channel-first (B, C, N) as in mmdet3d's point backbones; inside the
transformers everything is batch-first and channel-last, (sequences, tokens, C): the local
transformer's B·P neighbourhoods are gathered straight into (B·P, K, C), the layout the linear
layers and ``scaled_dot_product_attention`` consume, instead of being transposed to PyTorch's
sequence-first (K, B·P, C) and back (copies of the largest tensors of the model).
"""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmdet3d.models.layers import PointFPModule
from mmengine.model import BaseModule
from torch import Tensor, nn

from dynamicnet.ops import (ball_query, furthest_point_sample, gather_points,
                            grouping_operation_channels_last)
# mmdet3d's PointFPModule (and VoteHead) call mmcv's CUDA-only three_nn/three_interpolate by
# name; the switch rebinds them to dynamicnet.ops (mmcv kernels on CUDA, PyTorch on CPU).
from dynamicnet.ops import mmdet3d_dispatch  # noqa: F401
from dynamicnet.registry import MODELS

__all__ = [
    'multi_head_attention', 'pointwise', 'PointformerEncoderLayer', 'PointformerDecoderLayer',
    'PositionEncoding', 'LocalTransformer', 'LocalGlobalTransformer', 'GlobalTransformer',
    'PointformerBlock', 'Pointformer'
]


def _feed_forward(dim: int, hidden: int, dropout: float) -> Tuple[nn.Module, ...]:
    return nn.Linear(dim, hidden), nn.Dropout(dropout), nn.Linear(hidden, dim)


def multi_head_attention(attn: nn.MultiheadAttention,
                         query: Tensor,
                         memory: Optional[Tensor] = None,
                         need_weights: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
    """Batch-first multi-head attention with the parameters of an ``nn.MultiheadAttention``.

    The result of ``attn(q, kv, kv)`` on sequence-first inputs (the module keeps the official
    checkpoints' parameter names), computed on batch-first inputs without transposing them:
    one input projection, ``scaled_dot_product_attention`` per head, the output projection.

    Args:
        attn: Supplies ``in_proj_weight``/``in_proj_bias``, ``out_proj``, ``num_heads`` and the
            attention dropout ``dropout`` (applied in training mode).
        query: (S, L, C) queries.
        memory: (S, M, C) keys and values; ``None`` for self-attention (``memory = query``).
        need_weights: Also return the head-averaged attention probabilities (S, L, M), taken
            before dropout (only the coordinate refinement reads them).

    Returns:
        (S, L, C) attention output and the weights or ``None``.
    """
    dim = query.shape[-1]
    head_dim = dim // attn.num_heads
    if memory is None:
        q, k, v = F.linear(query, attn.in_proj_weight, attn.in_proj_bias).chunk(3, dim=-1)
    else:
        w_q, w_kv = attn.in_proj_weight.split([dim, 2 * dim])
        b_q, b_kv = attn.in_proj_bias.split([dim, 2 * dim])
        q = F.linear(query, w_q, b_q)
        k, v = F.linear(memory, w_kv, b_kv).chunk(2, dim=-1)
    # (S, L, C) -> (S, H, L, C/H)
    q, k, v = (t.unflatten(-1, (attn.num_heads, head_dim)).transpose(1, 2) for t in (q, k, v))
    dropout = attn.dropout if attn.training else 0.0
    if need_weights:
        probs = (q * head_dim**-0.5 @ k.transpose(-2, -1)).softmax(dim=-1)
        weights = probs.mean(dim=1)
        out = F.dropout(probs, dropout) @ v
    else:
        weights = None
        out = F.scaled_dot_product_attention(q, k, v, dropout_p=dropout)
    return attn.out_proj(out.transpose(1, 2).flatten(2)), weights


class PointformerEncoderLayer(nn.Module):
    """Transformer encoder layer in the two variants of the official code (spec §6).

    ``prenorm=False`` is PyTorch's post-norm ``nn.TransformerEncoderLayer`` (ReLU, same parameter
    names, so weights load either way). ``prenorm=True`` is the official custom layer::

        src = LN1(src); src = src + Drop(MHA(src)); src = LN2(src); src = src + Drop(FFN(src))

    in which the skip connection carries the *normalised* activations (neither pre- nor post-LN).

    Args:
        dim: Model width C.
        num_heads: Attention heads.
        ffn_dim: Hidden width of the feed-forward network.
        dropout: Dropout after attention, inside and after the feed-forward network.
        prenorm: Which variant (see above).
    """

    def __init__(self, dim: int, num_heads: int, ffn_dim: int, dropout: float, prenorm: bool):
        super().__init__()
        self.prenorm = prenorm
        self.self_attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout)
        self.linear1, self.dropout, self.linear2 = _feed_forward(dim, ffn_dim, dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)

    def _ffn(self, x: Tensor) -> Tensor:
        return self.linear2(self.dropout(torch.relu(self.linear1(x))))

    def forward(self, src: Tensor, need_weights: bool = False) -> Tuple[Tensor, Optional[Tensor]]:
        """Args: src (S, L, C). Returns (S, L, C) and, if asked, head-averaged weights (S, L, L)."""
        if self.prenorm:
            src = self.norm1(src)
            attn, weights = multi_head_attention(self.self_attn, src, need_weights=need_weights)
            src = self.norm2(src + self.dropout1(attn))
            return src + self.dropout2(self._ffn(src)), weights
        attn, weights = multi_head_attention(self.self_attn, src, need_weights=need_weights)
        src = self.norm1(src + self.dropout1(attn))
        return self.norm2(src + self.dropout2(self._ffn(src))), weights


class PointformerDecoderLayer(nn.Module):
    """Decoder layer of the Local-Global Transformer (spec §5).

    Self-attention on the target, cross-attention to a layer-normalised memory, feed-forward
    network; normalisation placed as in :class:`PointformerEncoderLayer` for either variant.

    Args:
        dim: Model width C (target and memory).
        num_heads: Attention heads.
        ffn_dim: Hidden width of the feed-forward network.
        dropout: Dropout rate.
        prenorm: Normalisation variant (see :class:`PointformerEncoderLayer`).
    """

    def __init__(self, dim: int, num_heads: int, ffn_dim: int, dropout: float, prenorm: bool):
        super().__init__()
        self.prenorm = prenorm
        self.self_attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout)
        self.multihead_attn = nn.MultiheadAttention(dim, num_heads, dropout=dropout)
        self.linear1, self.dropout, self.linear2 = _feed_forward(dim, ffn_dim, dropout)
        self.norm_memory = nn.LayerNorm(dim)
        self.norm1 = nn.LayerNorm(dim)
        self.norm2 = nn.LayerNorm(dim)
        self.norm3 = nn.LayerNorm(dim)
        self.dropout1 = nn.Dropout(dropout)
        self.dropout2 = nn.Dropout(dropout)
        self.dropout3 = nn.Dropout(dropout)

    def forward(self, tgt: Tensor, memory: Tensor) -> Tensor:
        """Args: tgt (B, P, C) queries, memory (B, N, C). Returns (B, P, C)."""
        memory = self.norm_memory(memory)

        def self_attention(x):
            return self.dropout1(multi_head_attention(self.self_attn, x)[0])

        def cross_attention(x):
            return self.dropout2(multi_head_attention(self.multihead_attn, x, memory)[0])

        def ffn(x):
            return self.dropout3(self.linear2(self.dropout(torch.relu(self.linear1(x)))))

        if self.prenorm:
            tgt = self.norm1(tgt)
            tgt = self.norm2(tgt + self_attention(tgt))
            tgt = self.norm3(tgt + cross_attention(tgt))
            return tgt + ffn(tgt)
        tgt = self.norm1(tgt + self_attention(tgt))
        tgt = self.norm2(tgt + cross_attention(tgt))
        return self.norm3(tgt + ffn(tgt))


def pointwise(layer: ConvModule, x: Tensor) -> Tensor:
    """A 1×1 ``ConvModule`` (conv, optional BN and activation) on channel-last (..., C_in) input.

    Same parameters, statistics updates and result as ``layer`` on the channel-first tensor; the
    batch norm sees the tokens as a (T, C) batch.

    Returns:
        (..., C_out).
    """
    x = F.linear(x, layer.conv.weight.flatten(1), layer.conv.bias)
    if layer.with_norm:
        norm_dims = (1, ) * (layer.conv.weight.dim() - 2)  # BN2d needs (T, C, 1, 1)
        x = layer.norm(x.reshape(-1, x.shape[-1], *norm_dims)).view(x.shape)
    if layer.with_activation:
        x = layer.activate(x)
    return x


class PositionEncoding(nn.Sequential):
    """δ(xyz): 1×1 conv 3 → C/2, BN, ReLU, 1×1 conv C/2 → C (spec §3.3), on (..., 3) → (..., C).

    Args:
        dim: Output width C.
        spatial_dims: Convolution type of the parameters, as in the official code: 1 for the
            centres, 2 for grouped neighbourhoods (``Conv2d``/``BN2d`` state-dict entries).
    """

    def __init__(self, dim: int, spatial_dims: int):
        conv = dict(type=f'Conv{spatial_dims}d')
        super().__init__(
            ConvModule(3, dim // 2, 1, conv_cfg=conv, norm_cfg=dict(type=f'BN{spatial_dims}d')),
            ConvModule(dim // 2, dim, 1, conv_cfg=conv, norm_cfg=None, act_cfg=None))

    def forward(self, xyz: Tensor) -> Tensor:
        for layer in self:
            xyz = pointwise(layer, xyz)
        return xyz


def _encoder(dim: int, num_heads: int, num_layers: int, ffn_ratio: int, dropout: float,
             prenorm: bool) -> nn.ModuleList:
    return nn.ModuleList(
        PointformerEncoderLayer(dim, num_heads, ffn_ratio * dim, dropout, prenorm)
        for _ in range(num_layers))


def _conv1x1(in_dim: int, out_dim: int) -> ConvModule:
    return ConvModule(in_dim, out_dim, 1, conv_cfg=dict(type='Conv1d'), norm_cfg=None,
                      act_cfg=None)


class LocalTransformer(nn.Module):
    """Transformer over the ball-query neighbourhood of each centre (spec §3).

    Args:
        num_point: Number of FPS centres P; ``None`` uses every input point as a centre (the
            neck's mode: indices are preserved).
        radius: Ball-query radius (input coordinate units, metres for ScanNet).
        num_sample: Neighbours per centre K.
        dim: Width C of the input features and of the Transformer.
        num_heads: Attention heads.
        num_layers: Encoder layers.
        ffn_ratio: Feed-forward width as a multiple of C.
        dropout: Dropout rate (``local_drop``).
        prenorm: Encoder-layer variant (:class:`PointformerEncoderLayer`).
        coord_refine: Move the centres by the last layer's attention (spec §7, [unconfirmed]).
    """

    def __init__(self,
                 *,
                 num_point: Optional[int],
                 radius: float,
                 num_sample: int,
                 dim: int,
                 num_heads: int,
                 num_layers: int = 2,
                 ffn_ratio: int = 2,
                 dropout: float = 0.0,
                 prenorm: bool = True,
                 coord_refine: bool = False):
        super().__init__()
        self.num_point = num_point
        self.radius = radius
        self.num_sample = num_sample
        self.coord_refine = coord_refine
        self.pos_enc = PositionEncoding(dim, spatial_dims=2)
        self.encoder = _encoder(dim, num_heads, num_layers, ffn_ratio, dropout, prenorm)
        self.out_conv = _conv1x1(dim, dim)

    def sample(self, xyz: Tensor) -> Tuple[Tensor, Tensor]:
        """Centres: D-FPS from index 0 (or all points when ``num_point`` is None).

        Args:
            xyz: (B, N, 3) points.

        Returns:
            (B, P, 3) centre coordinates and (B, P) long indices into N.
        """
        batch, num = xyz.shape[:2]
        if self.num_point is None:
            return xyz, torch.arange(num, device=xyz.device).expand(batch, num)
        indices = furthest_point_sample(xyz.contiguous(), self.num_point).long()
        return gather_points(xyz.transpose(1, 2).contiguous(), indices).transpose(1, 2), indices

    def group(self, xyz: Tensor, features: Tensor,
              new_xyz: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Ball-query grouping, channel-last.

        Args:
            xyz: (B, N, 3) points.
            features: (B, C, N) point features.
            new_xyz: (B, P, 3) centres.

        Returns:
            ``(grouped_xyz, grouped_features, idx)``: absolute neighbour coordinates
            (B, P, K, 3), neighbour features (B, P, K, C) and neighbour indices (B, P, K).
        """
        idx = ball_query(0.0, self.radius, self.num_sample, xyz.contiguous(),
                         new_xyz.contiguous())
        grouped_xyz = grouping_operation_channels_last(xyz, idx)
        grouped_features = grouping_operation_channels_last(
            features.transpose(1, 2).contiguous(), idx)
        return grouped_xyz, grouped_features, idx

    def attend(self, grouped_rel_xyz: Tensor,
               grouped_features: Tensor) -> Tuple[Tensor, Optional[Tensor]]:
        """Position encoding, Transformer over the K neighbours, max-pool, 1×1 conv.

        Args:
            grouped_rel_xyz: (B, P, K, 3) neighbour coordinates relative to their centre.
            grouped_features: (B, P, K, C) neighbour features.

        Returns:
            (B, C, P) features and, with ``coord_refine``, the last layer's head-averaged
            attention (B·P, K, K) (else ``None``).
        """
        x = grouped_features + self.pos_enc(grouped_rel_xyz)
        batch, num_point, num_sample, dim = x.shape
        seq = x.view(batch * num_point, num_sample, dim)
        weights = None
        for i, layer in enumerate(self.encoder):
            last = i == len(self.encoder) - 1
            seq, weights = layer(seq, need_weights=self.coord_refine and last)
        pooled = seq.max(dim=1).values.view(batch, num_point, dim)
        return pointwise(self.out_conv, pooled).transpose(1, 2).contiguous(), weights

    @staticmethod
    def refine(new_xyz: Tensor, center_idx: Tensor, grouped_xyz: Tensor, idx: Tensor,
               weights: Tensor) -> Tensor:
        """Attention-weighted centre refinement (spec §7, [unconfirmed]).

        The weights are the centre's own row of the head-averaged attention; a centre that is
        not among its first K neighbours uses the mean row.

        Args:
            new_xyz: (B, P, 3) centres.
            center_idx: (B, P) indices of the centres in the input points.
            grouped_xyz: (B, P, K, 3) absolute neighbour coordinates.
            idx: (B, P, K) neighbour indices.
            weights: (B·P, K, K) attention (query rows, key columns).

        Returns:
            (B, P, 3) refined centres.
        """
        batch, num_point, num_sample = idx.shape
        weights = weights.view(batch, num_point, num_sample, num_sample)
        is_center = idx.long() == center_idx.unsqueeze(-1)
        row = is_center.to(torch.uint8).argmax(dim=-1)
        own = weights.gather(2, row.view(batch, num_point, 1, 1).expand(-1, -1, 1, num_sample))
        attn = torch.where(is_center.any(-1, keepdim=True), own.squeeze(2), weights.mean(2))
        return torch.einsum('bpk,bpkc->bpc', attn, grouped_xyz)

    def forward(self, xyz: Tensor, features: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Args:
            xyz: (B, N, 3) points.
            features: (B, C, N) point features.

        Returns:
            ``(new_xyz, new_features, indices)``: (B, P, 3) centres (refined if enabled),
            (B, C, P) features and (B, P) long indices of the centres into N.
        """
        new_xyz, indices = self.sample(xyz)
        grouped_xyz, grouped_features, idx = self.group(xyz, features, new_xyz)
        rel_xyz = grouped_xyz - new_xyz.unsqueeze(2)
        new_features, weights = self.attend(rel_xyz, grouped_features)
        if self.coord_refine:
            new_xyz = self.refine(new_xyz, indices, grouped_xyz, idx, weights)
        return new_xyz, new_features, indices


class LocalGlobalTransformer(nn.Module):
    """Centres attend to all input points of the block (spec §5).

    Target = local features + δ(centres), memory = input features + δ(points) with the same δ;
    one :class:`PointformerDecoderLayer`, a 1×1 conv, added to the local features. Linformer
    projections (``ratios > 1`` in the official code) are not implemented: both released
    configs use ratio 1.

    Args:
        dim: Width C of both the local and the input features.
        num_heads: Attention heads.
        ffn_ratio: Feed-forward width as a multiple of C.
        dropout: Dropout rate.
        prenorm: Decoder-layer variant.
    """

    def __init__(self, *, dim: int, num_heads: int, ffn_ratio: int = 2, dropout: float = 0.0,
                 prenorm: bool = True):
        super().__init__()
        self.pos_enc = PositionEncoding(dim, spatial_dims=1)
        self.decoder = PointformerDecoderLayer(dim, num_heads, ffn_ratio * dim, dropout, prenorm)
        self.out_conv = _conv1x1(dim, dim)

    def forward(self, xyz: Tensor, features: Tensor, new_xyz: Tensor,
                new_features: Tensor) -> Tensor:
        """Args: xyz (B, N, 3), features (B, C, N), new_xyz (B, P, 3), new_features (B, C, P).

        Returns: (B, C, P) refined centre features.
        """
        tgt = new_features.transpose(1, 2) + self.pos_enc(new_xyz)
        memory = features.transpose(1, 2) + self.pos_enc(xyz)
        out = pointwise(self.out_conv, self.decoder(tgt, memory))
        return new_features + out.transpose(1, 2)


class GlobalTransformer(nn.Module):
    """Transformer over all centres with absolute position encoding (spec §4).

    Args:
        dim: Input and Transformer width C.
        out_dim: Output width after the 1×1 convolution.
        num_heads: Attention heads.
        num_layers: Encoder layers.
        ffn_ratio: Feed-forward width as a multiple of C.
        dropout: Dropout rate (``global_drop``).
        prenorm: Encoder-layer variant.
    """

    def __init__(self, *, dim: int, out_dim: int, num_heads: int, num_layers: int = 2,
                 ffn_ratio: int = 2, dropout: float = 0.0, prenorm: bool = True):
        super().__init__()
        self.pos_enc = PositionEncoding(dim, spatial_dims=1)
        self.encoder = _encoder(dim, num_heads, num_layers, ffn_ratio, dropout, prenorm)
        self.out_conv = _conv1x1(dim, out_dim)

    def forward(self, xyz: Tensor, features: Tensor) -> Tensor:
        """Args: xyz (B, P, 3) centres, features (B, C, P). Returns (B, out_dim, P)."""
        seq = features.transpose(1, 2) + self.pos_enc(xyz)
        for layer in self.encoder:
            seq, _ = layer(seq)
        return pointwise(self.out_conv, seq).transpose(1, 2).contiguous()


class PointformerBlock(nn.Module):
    """Local Transformer, optional Local-Global Transformer, Global Transformer.

    Args:
        num_point: Centres P (``None``: every input point, as in the neck).
        radius: Ball-query radius.
        num_sample: Neighbours K.
        dim: Input and hidden width C.
        out_dim: Output width.
        num_heads: Attention heads (local, global and decoder).
        num_layers: Encoder layers of the local and the global Transformer.
        ffn_ratio: Feed-forward width as a multiple of C.
        local_drop: Dropout in the Local Transformer.
        global_drop: Dropout in the Global and Local-Global Transformers.
        prenorm: Encoder/decoder-layer variant.
        use_decoder: Enable the Local-Global Transformer.
        coord_refine: Enable the coordinate refinement of the Local Transformer.
    """

    def __init__(self,
                 *,
                 num_point: Optional[int],
                 radius: float,
                 num_sample: int,
                 dim: int,
                 out_dim: int,
                 num_heads: int,
                 num_layers: int = 2,
                 ffn_ratio: int = 2,
                 local_drop: float = 0.0,
                 global_drop: float = 0.0,
                 prenorm: bool = True,
                 use_decoder: bool = False,
                 coord_refine: bool = False):
        super().__init__()
        self.local_transformer = LocalTransformer(
            num_point=num_point, radius=radius, num_sample=num_sample, dim=dim,
            num_heads=num_heads, num_layers=num_layers, ffn_ratio=ffn_ratio, dropout=local_drop,
            prenorm=prenorm, coord_refine=coord_refine)
        self.local_global_transformer = LocalGlobalTransformer(
            dim=dim, num_heads=num_heads, ffn_ratio=ffn_ratio, dropout=global_drop,
            prenorm=prenorm) if use_decoder else None
        self.global_transformer = GlobalTransformer(
            dim=dim, out_dim=out_dim, num_heads=num_heads, num_layers=num_layers,
            ffn_ratio=ffn_ratio, dropout=global_drop, prenorm=prenorm)

    def forward(self, xyz: Tensor, features: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """Args: xyz (B, N, 3), features (B, C, N).

        Returns: centres (B, P, 3), features (B, out_dim, P), long indices (B, P) into N.
        """
        new_xyz, new_features, indices = self.local_transformer(xyz, features)
        if self.local_global_transformer is not None:
            new_features = self.local_global_transformer(xyz, features, new_xyz, new_features)
        return new_xyz, self.global_transformer(new_xyz, new_features), indices


def _per_block(value, num_blocks: int, name: str) -> list:
    values = list(value) if isinstance(value, (list, tuple)) else [value] * num_blocks
    if len(values) != num_blocks:
        raise ValueError(f'{name} needs one value per block ({num_blocks}), got {value!r}')
    return values


@MODELS.register_module()
class Pointformer(BaseModule):
    """Pointformer backbone with the ``PointNet2SASSG`` output contract (spec §2).

    Defaults are the ScanNet configuration of the official code; SUN RGB-D uses
    ``num_samples=(16, 16, 16, 16)``, ``num_heads=4``, ``prenorm=False``, ``global_drop=0.1``.

    Args:
        in_channels: Point dimensions: xyz plus at least one feature (VoteNet: height, 4).
        num_points: Centres per block.
        radius: Ball-query radius per block.
        num_samples: Neighbours per block.
        basic_channels: Width of block 1; block i has width ``basic_channels·2^i`` and outputs
            twice that, except the last block.
        fp_channels: Widths of the feature-propagation MLPs (mmdet3d ``PointFPModule``).
        num_heads: Attention heads (8 ScanNet, 4 SUN RGB-D).
        num_layers: Encoder layers in each local and global Transformer.
        ffn_ratio: Feed-forward width as a multiple of the model width.
        local_drop: Dropout of the Local Transformers.
        global_drop: Dropout of the Global (and Local-Global) Transformers.
        prenorm: Encoder-layer variant (True ScanNet, False SUN RGB-D; spec §6).
        use_decoder: Local-Global Transformer per block (bool or one per block; off in both
            released configs, paper-default on; spec §5).
        coord_refine: Coordinate refinement per block (bool or one per block; [unconfirmed],
            default off as in the released code; spec §7).
        norm_cfg: Normalisation of the FP MLPs.
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 *,
                 in_channels: int = 4,
                 num_points: Sequence[int] = (2048, 1024, 512, 256),
                 radius: Sequence[float] = (0.2, 0.4, 0.8, 1.2),
                 num_samples: Sequence[int] = (64, 32, 16, 16),
                 basic_channels: int = 64,
                 fp_channels: Sequence[Sequence[int]] = ((256, 256), (256, 256)),
                 num_heads: int = 8,
                 num_layers: int = 2,
                 ffn_ratio: int = 2,
                 local_drop: float = 0.0,
                 global_drop: float = 0.2,
                 prenorm: bool = True,
                 use_decoder: Union[bool, Sequence[bool]] = False,
                 coord_refine: Union[bool, Sequence[bool]] = False,
                 norm_cfg: dict = dict(type='BN2d'),
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        num_blocks = len(num_points)
        if not len(radius) == len(num_samples) == num_blocks:
            raise ValueError(f'num_points {num_points}, radius {radius} and num_samples '
                             f'{num_samples} need the same length')
        if not 0 < len(fp_channels) < num_blocks:
            raise ValueError(f'fp_channels needs 1 to {num_blocks - 1} entries, '
                             f'got {len(fp_channels)}')
        if in_channels < 4:
            raise ValueError(f'Pointformer needs xyz plus at least one feature channel '
                             f'(in_channels >= 4, VoteNet uses 4: xyz + height), '
                             f'got in_channels={in_channels}')
        self.in_channels = in_channels
        self.num_points = tuple(num_points)
        use_decoder = _per_block(use_decoder, num_blocks, 'use_decoder')
        coord_refine = _per_block(coord_refine, num_blocks, 'coord_refine')

        # The official code maps exactly one extra channel (height); any number is allowed here.
        self.feature_conv = _conv1x1(in_channels - 3, basic_channels)
        self.blocks = nn.ModuleList()
        sa_out = [basic_channels]
        for i in range(num_blocks):
            dim = basic_channels * 2**i
            out_dim = dim if i == num_blocks - 1 else 2 * dim
            self.blocks.append(
                PointformerBlock(
                    num_point=num_points[i], radius=radius[i], num_sample=num_samples[i],
                    dim=dim, out_dim=out_dim, num_heads=num_heads, num_layers=num_layers,
                    ffn_ratio=ffn_ratio, local_drop=local_drop, global_drop=global_drop,
                    prenorm=prenorm, use_decoder=use_decoder[i], coord_refine=coord_refine[i]))
            sa_out.append(out_dim)

        self.FP_modules = nn.ModuleList()
        source = sa_out[-1]
        for i, channels in enumerate(fp_channels):
            target = sa_out[num_blocks - 1 - i]
            self.FP_modules.append(
                PointFPModule(mlp_channels=[source + target, *channels], norm_cfg=norm_cfg))
            source = channels[-1]

    def _check_points(self, points: Tensor) -> None:
        if points.dim() != 3 or points.shape[-1] != self.in_channels:
            raise ValueError(f'Pointformer expects points of shape (B, N, {self.in_channels}) '
                             f'(xyz + {self.in_channels - 3} feature channels, see in_channels), '
                             f'got {tuple(points.shape)}')
        if points.shape[1] == 0:
            raise ValueError('Pointformer got an empty point cloud (0 points); every sample needs '
                             f'at least {self.num_points[0]} points')
        if points.shape[1] < self.num_points[0]:
            raise ValueError(f'Pointformer got a point cloud of {points.shape[1]} points; its '
                             f'first block samples {self.num_points[0]} centres, so at least that '
                             f'many points are needed (sample more points, e.g. PointSample, or '
                             f'lower num_points)')

    def forward(self, points: Tensor) -> Dict[str, List[Tensor]]:
        """Args:
            points: (B, N, in_channels) points, xyz first.

        Returns:
            A dict like ``PointNet2SASSG``'s, lists ordered as there:

            - ``fp_xyz``: [(B, P_last, 3), ..., (B, P_{last-F}, 3)] for F FP modules;
            - ``fp_features``: [(B, C, P), ...] (VoteHead reads the last entry);
            - ``fp_indices``: [(B, P), ...] long indices into the N input points;
            - ``sa_xyz``, ``sa_features``, ``sa_indices``: inputs and outputs of each block.
        """
        self._check_points(points)
        xyz = points[..., :3].contiguous()
        features = self.feature_conv(points[..., 3:].transpose(1, 2).contiguous())
        batch, num = xyz.shape[:2]
        indices = torch.arange(num, device=points.device).expand(batch, num)

        sa_xyz, sa_features, sa_indices = [xyz], [features], [indices]
        for block in self.blocks:
            new_xyz, new_features, new_indices = block(sa_xyz[-1], sa_features[-1])
            sa_xyz.append(new_xyz)
            sa_features.append(new_features)
            sa_indices.append(sa_indices[-1].gather(1, new_indices))

        fp_xyz, fp_features, fp_indices = [sa_xyz[-1]], [sa_features[-1]], [sa_indices[-1]]
        num_blocks = len(self.blocks)
        for i, fp in enumerate(self.FP_modules):
            level = num_blocks - 1 - i
            fp_features.append(fp(sa_xyz[level], sa_xyz[level + 1], sa_features[level],
                                  fp_features[-1]))
            fp_xyz.append(sa_xyz[level])
            fp_indices.append(sa_indices[level])
        return dict(fp_xyz=fp_xyz, fp_features=fp_features, fp_indices=fp_indices,
                    sa_xyz=sa_xyz, sa_features=sa_features, sa_indices=sa_indices)
