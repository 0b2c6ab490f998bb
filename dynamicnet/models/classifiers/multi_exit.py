# Copyright (c) dynamicnet contributors. All rights reserved.
"""The multi-exit classifier contract shared by every early-exit model of dynamicnet.

Instance-wise dynamic models (MSDNet, RANet, DVT, GFNet, AdaFocus+) are a sequence of ``K``
**stages**; stage ``k`` continues the computation of stage ``k - 1`` and ends in an **exit** that
emits class logits. At test time a sample leaves at the first exit whose confidence (max softmax)
reaches that exit's threshold (``../shared/specs/dynamic-inference.md`` §4). This module writes the
protocol once:

What a subclass implements
    * ``num_exits`` (int attribute or property): ``K``.
    * ``init_state(inputs) -> state``: what stage 0 starts from (default: the image batch).
    * ``forward_stage(k, state) -> (logits_k, state)``: run stage ``k`` (0-based) on the state left
      by stage ``k - 1``; ``logits_k`` is ``(B, C)``. Every tensor in ``state`` must be
      **batch-first** (``(B, ...)``); containers (tuple/list/dict) are walked recursively and
      non-tensors are passed through. Models whose state is not batch-first (e.g. a GRU hidden
      state ``(layers, B, H)``) override ``select_state``.

What the contract provides
    * ``forward(mode='tensor')``: stacked per-exit logits ``(K, B, C)``.
    * ``loss``: ``sum_k w_k * loss(logits_k, y)`` over exits (``exit_weights``, default all 1:
      the summed cross-entropy of MSDNet/DVT; GFNet uses ``1/T``). Keys ``loss_exit{k}``.
    * ``predict``: every exit evaluated; each data sample gets ``exit_scores`` ``(K, C)``
      (softmax of every exit), ``exit_costs`` ``(K,)`` (cumulative MACs, float64) and, as
      ``pred_score``/``pred_label``, the last exit's prediction -- the input of
      :class:`dynamicnet.evaluation.EarlyExitMetric`. With ``test_cfg=dict(thresholds=[...])``
      predict runs the real early-exit path instead and stores ``exit_index`` (0-based) with the
      prediction of the exit that was taken.
    * ``early_exit(inputs, thresholds)``: **real batch partitioning**. After stage ``k`` the
      samples with ``conf >= thresholds[k]`` are removed from the batch (``select_state``), so
      the remaining stages run on fewer samples and saved MACs become saved time. The last exit
      takes everybody left (its threshold is ignored, i.e. ``-inf``).
    * ``exit_costs(input_shape)``: cumulative MACs ``F_1 <= ... <= F_K`` per sample for one input
      of shape ``(C, H, W)``, counted with :func:`dynamicnet.utils.complexity.count_macs` by
      running the stages one at a time on a batch of one (so every module a stage runs --
      previous exits, policies, recurrent cells, reuse modules -- is counted in the stage that
      runs it, as ``dynamic-inference.md`` §4.3/§5 require). Modules with raw matmuls give their
      own ``count_macs``; :meth:`init_state` is counted with stage 0. ``test_cfg.cost_rules``
      picks the counter's rule set (default ``'macs'``: conv/linear MACs, for cross-method
      comparison; ``'condensenet'`` also counts activations and pooling, which reproduces MSDNet's
      ``op_counter.py`` up to the linear biases). Results are cached per input shape and rules.

Ready-made subclass: :class:`EarlyExitClassifier` = a *staged backbone* (``num_stages`` and
``forward_stage(k, state) -> state``, e.g. :class:`dynamicnet.models.backbones.MSDNet`) plus one
exit head per stage reading that stage's output.

Example (subclass)::

    @MODELS.register_module()
    class TwoStageNet(MultiExitClassifier):
        num_exits = 2

        def forward_stage(self, k, state):
            feat = self.stages[k](state)
            return self.exits[k](feat), feat
"""
from abc import abstractmethod
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmpretrain.models.classifiers import BaseClassifier
from mmpretrain.structures import DataSample
from torch import Tensor

from dynamicnet.registry import MODELS
from dynamicnet.utils.complexity import count_macs

__all__ = ['MultiExitClassifier', 'EarlyExitClassifier', 'select_batch']


def select_batch(state: Any, index: Tensor) -> Any:
    """Index every batch-first tensor of a (nested) state with ``index`` along dim 0.

    Args:
        state: A tensor, or a tuple/list/dict of states (named tuples keep their type); other
            objects are returned unchanged.
        index: 1-D long tensor of the batch rows to keep.
    """
    if isinstance(state, Tensor):
        return state.index_select(0, index.to(state.device))
    if isinstance(state, tuple):
        items = [select_batch(s, index) for s in state]
        return type(state)(*items) if hasattr(state, '_fields') else tuple(items)
    if isinstance(state, list):
        return [select_batch(s, index) for s in state]
    if isinstance(state, dict):
        return {k: select_batch(v, index) for k, v in state.items()}
    return state


class MultiExitClassifier(BaseClassifier):
    """Base class of multi-exit (early-exit) classifiers; see the module docstring.

    Args:
        loss: Per-exit classification loss config (an mmpretrain loss taking
            ``(logits, target, avg_factor=B)``). Defaults to ``mmpretrain.CrossEntropyLoss``.
        exit_weights: Weight of each exit's loss; ``None`` means 1 for every exit.
        train_cfg: As for :class:`mmpretrain.models.ImageClassifier` (``augments`` become the
            data preprocessor's batch augments).
        test_cfg: ``thresholds`` (list of ``K`` confidences) switches ``predict`` to the
            early-exit path; ``cost_input_shape`` ``(C, H, W)`` fixes the shape used by
            :meth:`exit_costs` (default: the shape of the batch being predicted);
            ``cost_rules`` names the :func:`count_macs` rule set (default ``'macs'``);
            ``benchmark_batch_size`` is the batch that
            ``tools/analysis_tools/benchmark_early_exit.py`` times the early exit at by default
            (the model itself ignores it).
        data_preprocessor: Defaults to ``mmpretrain.ClsDataPreprocessor``.
        init_cfg: Initialisation config.
    """

    num_exits: int

    def __init__(self,
                 *,
                 loss: Optional[dict] = None,
                 exit_weights: Optional[Sequence[float]] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None):
        data_preprocessor = dict(data_preprocessor or {})
        data_preprocessor.setdefault('type', 'mmpretrain.ClsDataPreprocessor')
        if train_cfg is not None and 'augments' in train_cfg:
            data_preprocessor.setdefault('batch_augments', train_cfg)
        super().__init__(init_cfg=init_cfg, data_preprocessor=data_preprocessor)
        loss = loss or dict(type='mmpretrain.CrossEntropyLoss', loss_weight=1.0)
        self.loss_module = MODELS.build(loss) if isinstance(loss, dict) else loss
        self.exit_weights = None if exit_weights is None else [float(w) for w in exit_weights]
        self.train_cfg = dict(train_cfg or {})
        self.test_cfg = dict(test_cfg or {})
        self._exit_cost_cache: Dict[Tuple, List[float]] = {}

    # ---- what subclasses implement ------------------------------------------------------------
    def init_state(self, inputs: Tensor) -> Any:
        """State that stage 0 consumes. Defaults to the preprocessed image batch."""
        return inputs

    @abstractmethod
    def forward_stage(self, k: int, state: Any) -> Tuple[Tensor, Any]:
        """Run stage ``k`` (0-based) and its exit.

        Args:
            k: Stage index.
            state: The state returned by stage ``k - 1`` (or :meth:`init_state` for ``k = 0``).

        Returns:
            ``(logits (B, C), state for stage k + 1)``.
        """

    def select_state(self, state: Any, index: Tensor) -> Any:
        """Keep the batch rows ``index`` of a state (batch partitioning)."""
        return select_batch(state, index)

    # ---- forward modes ------------------------------------------------------------------------
    def forward_exits(self, inputs: Tensor) -> List[Tensor]:
        """Logits of every exit, each ``(B, C)``, all samples through all stages."""
        state = self.init_state(inputs)
        logits = []
        for k in range(self.num_exits):
            out, state = self.forward_stage(k, state)
            logits.append(out)
        return logits

    def extract_feat(self, inputs: Tensor) -> Tensor:
        """Stacked per-exit logits ``(K, B, C)`` (the features an early-exit model exposes)."""
        return torch.stack(self.forward_exits(inputs))

    def forward(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None,
                mode: str = 'tensor'):
        if mode == 'tensor':
            return self.extract_feat(inputs)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}".')

    @staticmethod
    def _targets(data_samples: List[DataSample]) -> Tensor:
        if 'gt_score' in data_samples[0]:
            return torch.stack([s.gt_score for s in data_samples])
        return torch.cat([s.gt_label for s in data_samples])

    def exit_losses(self, logits: Sequence[Tensor], data_samples: List[DataSample],
                    prefix: str = 'loss_exit') -> Dict[str, Tensor]:
        """Weighted loss of each exit, ``{f'{prefix}{k}': w_k * loss_k}`` (k is 0-based)."""
        target = self._targets(data_samples)
        weights = self.exit_weights or [1.0] * len(logits)
        if len(weights) != len(logits):
            raise ValueError(f'{len(weights)} exit_weights for {len(logits)} exits')
        return {
            f'{prefix}{k}': w * self.loss_module(x, target, avg_factor=x.size(0))
            for k, (w, x) in enumerate(zip(weights, logits))
        }

    def loss(self, inputs: Tensor, data_samples: List[DataSample]) -> Dict[str, Tensor]:
        """Sum of the weighted per-exit losses (mmengine sums every ``loss*`` key)."""
        return self.exit_losses(self.forward_exits(inputs), data_samples)

    def predict(self,
                inputs: Tensor,
                data_samples: Optional[List[DataSample]] = None) -> List[DataSample]:
        """Per-exit predictions, or the real early-exit path when ``test_cfg.thresholds`` is set."""
        batch = inputs.size(0)
        if data_samples is None:
            data_samples = [DataSample() for _ in range(batch)]
        costs = torch.tensor(
            self.exit_costs(self.test_cfg.get('cost_input_shape', tuple(inputs.shape[1:]))),
            dtype=torch.float64)
        thresholds = self.test_cfg.get('thresholds')
        if thresholds is not None:
            scores, exit_index = self.early_exit(inputs, thresholds)
            for sample, score, k in zip(data_samples, scores, exit_index):
                sample.set_pred_score(score).set_pred_label(score.argmax(0, keepdim=True))
                sample.set_field(int(k), 'exit_index', field_type='metainfo')
                sample.set_field(costs, 'exit_costs')
            return data_samples
        exit_scores = torch.stack([F.softmax(x, dim=1) for x in self.forward_exits(inputs)], 1)
        for sample, scores in zip(data_samples, exit_scores.detach()):
            sample.set_pred_score(scores[-1]).set_pred_label(scores[-1].argmax(0, keepdim=True))
            sample.set_field(scores, 'exit_scores')
            sample.set_field(costs, 'exit_costs')
        return data_samples

    @torch.no_grad()
    def early_exit(self, inputs: Tensor, thresholds: Sequence[float]) -> Tuple[Tensor, Tensor]:
        """Sequential inference with batch partitioning.

        Args:
            inputs: Preprocessed images ``(B, C, H, W)``.
            thresholds: ``K`` confidence thresholds; a sample leaves at the first exit ``k`` with
                ``max softmax >= thresholds[k]``; the last entry is ignored (everybody left exits
                at ``K``).

        Returns:
            ``(scores (B, num_classes), exit_index (B,) long, 0-based)``: the softmax of the exit
            each sample took.

        Per exit the bookkeeping is a softmax, two index writes into the outputs and one
        ``nonzero`` (the only host sync); the state is gathered (:meth:`select_state`) only
        when some sample left.
        """
        if len(thresholds) != self.num_exits:
            raise ValueError(f'{len(thresholds)} thresholds for {self.num_exits} exits')
        # plain floats once, so comparing never syncs with a device inside the loop
        thresholds = [float(t) for t in thresholds]
        last = self.num_exits - 1
        # input row of every sample still in the batch
        rows = torch.arange(inputs.size(0), device=inputs.device)
        exit_index = torch.empty_like(rows)
        scores: Optional[Tensor] = None
        state = self.init_state(inputs)
        for k in range(self.num_exits):
            logits, state = self.forward_stage(k, state)
            probs = F.softmax(logits, dim=1)
            if scores is None:
                scores = probs.new_empty(rows.numel(), probs.size(1))
            # every active sample is recorded at exit k; the ones that go on are overwritten by a
            # later exit, so the leaving ones never need to be looked up
            scores.index_copy_(0, rows, probs)
            exit_index.index_fill_(0, rows, k)
            if k == last:
                break
            # the only host sync of an exit: the size of the batch that goes on
            leave = probs.max(dim=1).values >= thresholds[k]
            keep = leave.logical_not().nonzero().squeeze(1)
            if keep.numel() == 0:
                break
            if keep.numel() < rows.numel():
                rows = rows.index_select(0, keep)
                state = self.select_state(state, keep)
        return scores, exit_index

    # ---- cost accounting ----------------------------------------------------------------------
    @torch.no_grad()
    def exit_costs(self, input_shape: Optional[Sequence[int]] = None) -> List[float]:
        """Cumulative MACs per sample to reach each exit, ``[F_1, ..., F_K]``.

        Args:
            input_shape: ``(C, H, W)`` of one preprocessed input; defaults to
                ``test_cfg.cost_input_shape``.
        """
        if input_shape is None:
            input_shape = self.test_cfg.get('cost_input_shape')
        if input_shape is None:
            raise ValueError('exit_costs needs input_shape or test_cfg.cost_input_shape')
        shape = tuple(int(s) for s in input_shape)
        rules = self.test_cfg.get('cost_rules', 'macs')
        key = shape + (rules, )
        if key not in self._exit_cost_cache:
            was_training = self.training
            self.eval()
            try:
                param = next(self.parameters())
                x = torch.zeros((1, ) + shape, dtype=param.dtype, device=param.device)
                state: List[Any] = [x]
                per_stage = []

                def run(k: int) -> None:
                    if k == 0:
                        state[0] = self.init_state(state[0])
                    _, state[0] = self.forward_stage(k, state[0])

                for k in range(self.num_exits):
                    per_stage.append(count_macs(self, (k, ), rules=rules, forward=run))
            finally:
                self.train(was_training)
            cumulative, total = [], 0
            for macs in per_stage:
                total += macs
                cumulative.append(float(total))
            self._exit_cost_cache[key] = cumulative
        return list(self._exit_cost_cache[key])


@MODELS.register_module()
class EarlyExitClassifier(MultiExitClassifier):
    """A staged backbone with one exit head after every stage (MSDNet, RANet-style models).

    Args:
        backbone: Config of a backbone with ``num_stages``, ``forward_stage(k, state) -> state``
            (stage 0 receives the image) and, when ``exit_head`` is a single dict,
            ``exit_channels`` (input channels of each exit).
        exit_head: One head config used for every exit (``in_channels`` filled from
            ``backbone.exit_channels``), or a list with one config per exit. A head maps the
            stage output to logits ``(B, C)``.
        **kwargs: See :class:`MultiExitClassifier`.
    """

    def __init__(self, backbone: dict, exit_head, **kwargs):
        super().__init__(**kwargs)
        self.backbone = MODELS.build(backbone)
        self.num_exits = int(self.backbone.num_stages)
        if isinstance(exit_head, dict):
            exit_head = [
                dict(exit_head, in_channels=c) for c in self.backbone.exit_channels
            ]
        if len(exit_head) != self.num_exits:
            raise ValueError(f'{len(exit_head)} exit heads for {self.num_exits} stages')
        self.exits = torch.nn.ModuleList(MODELS.build(cfg) for cfg in exit_head)

    def forward_stage(self, k: int, state: Any) -> Tuple[Tensor, Any]:
        state = self.backbone.forward_stage(k, state)
        return self.exits[k](state), state
