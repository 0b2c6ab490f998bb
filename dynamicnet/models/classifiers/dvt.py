# Copyright (c) dynamicnet contributors. All rights reserved.
"""DVT: a cascade of transformers with increasing token counts, on the multi-exit contract.

Paper: "Not All Images are Worth 16x16 Words: Dynamic Transformers for Efficient Image
Recognition", NeurIPS 2021 (arXiv 2105.15075); official code
``blackfeather-wang/Dynamic-Vision-Transformer``; spec ``../shared/specs/dvt.md``.

Stage ``k`` runs exit backbone ``k`` (a complete ViT, :mod:`dynamicnet.models.backbones.dvt`) on
the whole image, handing its last-layer tokens and attention logits to exit ``k + 1`` (feature and
relationship reuse), then its head. Training minimises the unweighted sum of the exits'
losses (``dvt.md`` §6). :class:`dynamicnet.models.classifiers.MultiExitClassifier` provides the
per-exit evaluation (``exit_scores`` for ``EarlyExitMetric``), the real early exit with batch
partitioning (samples that exit are removed before the next transformer runs: the termination
condition users asked for in official issue #8) and the per-exit cumulative MACs, which include
the reuse modules because they run inside the downstream stage.
"""
import copy
from typing import Optional, Sequence, Tuple, Union

from mmengine.model import ModuleList
from torch import Tensor

from dynamicnet.registry import MODELS
from .multi_exit import MultiExitClassifier

__all__ = ['DVT']


@MODELS.register_module()
class DVT(MultiExitClassifier):
    """Dynamic Vision Transformer cascade.

    Args:
        backbones: One config per exit, in cascade order (e.g. ``dynamicnet.DVTT2TViT`` with
            7x7, 10x10 and 14x14 tokens). A backbone with ``feature_reuse`` or
            ``relation_reuse`` reads the state of the previous one; the first must use neither.
        head: Head config used for every exit (e.g. ``mmpretrain.VisionTransformerClsHead``);
            ``in_channels`` defaults to the exit's ``embed_dims``. A list gives one per exit.
        loss, exit_weights, train_cfg, test_cfg, data_preprocessor, init_cfg: See
            :class:`MultiExitClassifier` (DVT: cross-entropy, all weights 1).

    Shapes: inputs ``(B, 3, H, W)``; each exit's logits ``(B, num_classes)``.
    """

    def __init__(self,
                 backbones: Sequence[dict],
                 head: Union[dict, Sequence[dict]],
                 loss: Optional[dict] = None,
                 exit_weights: Optional[Sequence[float]] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        super().__init__(
            loss=loss,
            exit_weights=exit_weights,
            train_cfg=train_cfg,
            test_cfg=test_cfg,
            data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        self.backbones = ModuleList([MODELS.build(cfg) for cfg in backbones])
        if getattr(self.backbones[0], 'uses_upstream', False):
            raise ValueError('the first DVT exit has no upstream exit to reuse')
        heads = [head] * len(backbones) if isinstance(head, dict) else list(head)
        if len(heads) != len(backbones):
            raise ValueError(f'{len(heads)} heads for {len(backbones)} exits')
        built = []
        for cfg, backbone in zip(heads, self.backbones):
            cfg = copy.deepcopy(cfg)
            cfg.setdefault('in_channels', backbone.embed_dims)
            built.append(MODELS.build(cfg))
        self.heads = ModuleList(built)

    @property
    def num_exits(self) -> int:
        return len(self.backbones)

    def forward_stage(self, k: int, state) -> Tuple[Tensor, tuple]:
        """Stage ``k``: exit backbone ``k`` and its head.

        Args:
            k: 0-based exit index.
            state: Images ``(B, 3, H, W)`` for ``k = 0``, else ``(images, upstream)`` with
                ``upstream`` the previous exit's
                :class:`~dynamicnet.models.backbones.dvt.ReuseState` (or None).

        Returns:
            ``(logits (B, C), (images, ReuseState or None))``; the state is kept only as far as
            the next exit reuses it (batch partitioning then moves less memory).
        """
        images, upstream = (state, None) if k == 0 else state
        backbone = self.backbones[k]
        feats, own = backbone(images, upstream=upstream, return_state=True)
        logits = self.heads[k](feats)
        nxt = self.backbones[k + 1] if k + 1 < self.num_exits else None
        if nxt is None or not nxt.uses_upstream:
            own = None
        elif not nxt.relation_reuse:
            own = own._replace(relations=[])
        return logits, (images, own)
