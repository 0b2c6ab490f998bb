# Copyright (c) dynamicnet contributors. All rights reserved.
"""Pointformer blocks as a neck on another point backbone (e.g. mmdet3d's ``PointNet2SASSG``).

Users treat Pointformer as a drop-in on an existing detector: this neck refines selected levels
of a point backbone's output dict with Pointformer blocks (Local Transformer over each point's
ball-query neighbourhood with relative position encoding, Global Transformer with absolute
position encoding; ``../shared/specs/pointformer.md`` §3-4) and adds the result residually. Every
point of a level is its own centre, so coordinates and indices are unchanged and the output dict
keeps the backbone's contract: VoteHead reads it as before.

With ``PointNet2SASSG`` the ``fp_*`` lists hold the set-abstraction outputs after feature
propagation (``fp_features[0]`` is the last SA output; ``fp_features[-1]`` the 1024 seeds VoteHead
votes from); ``sa_*`` levels can be refined too, for backbones whose SA outputs are consumed
downstream (refining ``sa_*`` alone does not change what VoteHead reads).
"""
from typing import Dict, List, Optional, Sequence, Union

from mmengine.model import BaseModule
from torch import Tensor, nn

from dynamicnet.registry import MODELS
from ..backbones.pointformer import PointformerBlock

__all__ = ['PointformerNeck']


@MODELS.register_module()
class PointformerNeck(BaseModule):
    """Residual Pointformer refinement of point-backbone features.

    Args:
        in_channels: Width of each refined level (one per entry of ``levels``).
        levels: Indices into the ``{key}_features`` lists to refine (default: the last FP
            level, VoteHead's seeds).
        key: ``'fp'`` or ``'sa'``: which lists of the backbone dict to refine.
        radius: Ball-query radius per level (input units).
        num_samples: Neighbours per point per level.
        num_heads: Attention heads.
        num_layers: Encoder layers in each local and global Transformer.
        ffn_ratio: Feed-forward width as a multiple of the level width.
        local_drop: Dropout of the Local Transformers.
        global_drop: Dropout of the Global Transformers.
        prenorm: Encoder-layer variant (see ``PointformerEncoderLayer``).
        init_cfg: mmengine initialisation config.
    """

    def __init__(self,
                 *,
                 in_channels: Sequence[int] = (256, ),
                 levels: Sequence[int] = (-1, ),
                 key: str = 'fp',
                 radius: Union[float, Sequence[float]] = 0.2,
                 num_samples: Union[int, Sequence[int]] = 16,
                 num_heads: int = 8,
                 num_layers: int = 2,
                 ffn_ratio: int = 2,
                 local_drop: float = 0.0,
                 global_drop: float = 0.1,
                 prenorm: bool = True,
                 init_cfg: Optional[Union[dict, List[dict]]] = None):
        super().__init__(init_cfg=init_cfg)
        if key not in ('fp', 'sa'):
            raise ValueError(f"key must be 'fp' or 'sa', got {key!r}")
        if len(in_channels) != len(levels):
            raise ValueError(f'in_channels {in_channels} needs one width per level {levels}')
        radii = list(radius) if isinstance(radius, (list, tuple)) else [radius] * len(levels)
        samples = (list(num_samples) if isinstance(num_samples, (list, tuple)) else
                   [num_samples] * len(levels))
        if not len(radii) == len(samples) == len(levels):
            raise ValueError(f'radius {radius} and num_samples {num_samples} need one value per '
                             f'level {levels}')
        self.key = key
        self.levels = tuple(levels)
        self.blocks = nn.ModuleList(
            PointformerBlock(
                num_point=None, radius=r, num_sample=k, dim=c, out_dim=c, num_heads=num_heads,
                num_layers=num_layers, ffn_ratio=ffn_ratio, local_drop=local_drop,
                global_drop=global_drop, prenorm=prenorm)
            for c, r, k in zip(in_channels, radii, samples))

    def forward(self, feat_dict: Dict[str, List[Tensor]]) -> Dict[str, List[Tensor]]:
        """Args:
            feat_dict: A point backbone's output with ``{key}_xyz`` [(B, P, 3), ...] and
                ``{key}_features`` [(B, C, P), ...].

        Returns:
            The same dict (a shallow copy) with the selected feature levels replaced by
            ``features + block(xyz, features)``.
        """
        out = dict(feat_dict)
        xyz_list = feat_dict[f'{self.key}_xyz']
        features = list(feat_dict[f'{self.key}_features'])
        for level, block in zip(self.levels, self.blocks):
            _, refined, _ = block(xyz_list[level], features[level])
            features[level] = features[level] + refined
        out[f'{self.key}_features'] = features
        return out
