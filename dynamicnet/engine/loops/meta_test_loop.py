# Copyright (c) dynamicnet contributors. All rights reserved.
"""Episodic few-shot evaluation (meta-test) on mmengine's runner.

There is no mmengine-based few-shot library (mmfewshot is mmcv 1.x only, mmpretrain 1.2 has
none; ``../shared/specs/openmmlab.md`` §1.4), so this loop implements the protocol of Chen et al.
("A Closer Look at Few-shot Classification", ICLR 2019): the runner's model, pre-trained on the
base classes, is frozen as a feature extractor; for every episode a new head is fitted on the
(optionally FOT-augmented) support features and scored on the queries; the report is the mean
query accuracy with its 95% confidence interval over the episodes.
"""
import json
from contextlib import contextmanager
from typing import Dict, Iterable, Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.dist import is_main_process
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner.base_loop import BaseLoop
from torch import Tensor, nn
from torch.utils.data import DataLoader

from dynamicnet.datasets.episodic import EpisodeData
from dynamicnet.models.fot import masks_from_data_samples
from dynamicnet.registry import LOOPS, MODELS, TRANSFORMS

__all__ = ['NovelClassLeakageError', 'eval_mode_guard', 'extract_features', 'MetaTestLoop']

SETTINGS = ('inductive', 'transductive')


class NovelClassLeakageError(RuntimeError):
    """A novel-class image reached a module in training mode."""


@contextmanager
def eval_mode_guard(modules: Iterable[nn.Module]) -> Iterator[None]:
    """Raise :class:`NovelClassLeakageError` if any (sub)module runs a forward in training mode.

    Novel-class images may only pass through fixed networks (``fot.md`` §7-§8.6): a module in
    training mode would update its statistics (BatchNorm) on them or be fitted to them.
    """

    def check(module: nn.Module, args) -> None:
        if module.training:
            raise NovelClassLeakageError(
                f'a novel-class image passed through {type(module).__name__} in training mode')

    handles = [m.register_forward_pre_hook(check) for root in modules for m in root.modules()]
    try:
        yield
    finally:
        for handle in handles:
            handle.remove()


def extract_features(model: nn.Module, imgs: Tensor, batch_size: int = 128) -> Tensor:
    """Frozen features ``(N, D)`` of pixel-unit images ``(N, 3, H, W)``.

    The model's data preprocessor normalises the images; ``extract_feat`` (mmpretrain
    classifiers: the neck output) gives the features, ``model(x, mode='tensor')`` otherwise. A
    tuple output is reduced to its last element and a feature map ``(N, C, h, w)`` is averaged
    over space.
    """
    feats = []
    for start in range(0, len(imgs), batch_size):
        inputs = model.data_preprocessor(
            dict(inputs=imgs[start:start + batch_size], data_samples=None), False)['inputs']
        out = (model.extract_feat(inputs)
               if hasattr(model, 'extract_feat') else model(inputs, mode='tensor'))
        if isinstance(out, (tuple, list)):
            out = out[-1]
        if out.dim() == 4:
            out = F.adaptive_avg_pool2d(out, 1)
        feats.append(out.flatten(1))
    return torch.cat(feats)


def _stack(items: Sequence[Tensor], device) -> Tensor:
    return torch.stack(list(items)).float().to(device)


@LOOPS.register_module()
class MetaTestLoop(BaseLoop):
    """Meta-test loop: per-episode head fitting on frozen features, mean accuracy ± 95% CI.

    Use as ``val_cfg`` / ``test_cfg`` with an :class:`dynamicnet.datasets.EpisodicDataset`
    dataloader (default ``pseudo_collate``) and
    ``dict(type='dynamicnet.EpisodicAccuracy')`` as evaluator. It calls the runner's
    ``*_val*`` hooks when it is the validation loop and the ``*_test*`` hooks when it is the
    test loop.

    Per episode, with every image-level module (the runner's model and the FOT networks) in eval
    mode and guarded by :func:`eval_mode_guard`, and no gradients:

    1. stack the support / query images (pixel units);
    2. optionally apply ``episode_transform``
       (:class:`dynamicnet.datasets.transforms.FOTTransform`),
       which may add generated support samples with their own loss weights;
    3. extract frozen features;
    4. fit a fresh ``head`` (seeded by ``(fit_seed, episode_idx)``) on the support features,
       transductively also on the unlabelled query features;
    5. record the query accuracy.

    Args:
        runner: The runner.
        dataloader: Episodic dataloader or its config.
        evaluator: Usually ``dict(type='dynamicnet.EpisodicAccuracy')``.
        head: Few-shot head config: ``dynamicnet.CosineFewShotHead`` (Baseline++, default),
            ``dynamicnet.LinearFewShotHead`` (Baseline) or ``dynamicnet.PrototypeHead``.
        setting: ``'inductive'`` (default) or ``'transductive'`` (the head also sees the
            unlabelled queries of the episode).
        episode_transform: Optional episode augmentation config (FOT).
        feat_batch_size: Images per feature-extraction forward.
        fit_seed: Seed of the heads' fitting.
        out_file: Optional JSON file for the per-episode records of this process (episode
            index, classes, accuracy), for independent checks.
        fp16: Autocast the feature extraction.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 head: dict = dict(type='dynamicnet.CosineFewShotHead'),
                 setting: str = 'inductive',
                 episode_transform: Optional[dict] = None,
                 feat_batch_size: int = 128,
                 fit_seed: int = 0,
                 out_file: Optional[str] = None,
                 fp16: bool = False) -> None:
        super().__init__(runner, dataloader)
        if setting not in SETTINGS:
            raise ValueError(f'setting must be one of {SETTINGS}, got {setting!r}')
        if isinstance(evaluator, (dict, list)):
            evaluator = runner.build_evaluator(evaluator)
        self.evaluator = evaluator
        self.evaluator.dataset_meta = getattr(self.dataloader.dataset, 'metainfo', None)
        self.head = MODELS.build(head)
        self.setting = setting
        self.episode_transform = (
            TRANSFORMS.build(episode_transform) if episode_transform is not None else None)
        self.feat_batch_size = feat_batch_size
        self.fit_seed = fit_seed
        self.out_file = out_file
        self.fp16 = fp16
        self.records: List[dict] = []

    @property
    def _stage(self) -> str:
        return 'test' if getattr(self.runner, '_test_loop', None) is self else 'val'

    def _image_modules(self, model: nn.Module) -> List[nn.Module]:
        extra = self.episode_transform.modules() if self.episode_transform is not None else []
        return [model, *extra]

    def run(self) -> dict:
        """Evaluate all episodes and return the metrics."""
        stage = self._stage
        self.runner.call_hook(f'before_{stage}')
        self.runner.call_hook(f'before_{stage}_epoch')
        model = self.runner.model
        if is_model_wrapper(model):
            model = model.module
        self.runner.model.eval()
        if self.episode_transform is not None:
            self.episode_transform.to(model.data_preprocessor.device)
            for module in self.episode_transform.modules():
                module.eval()
        self.records = []
        for idx, data_batch in enumerate(self.dataloader):
            self.runner.call_hook(f'before_{stage}_iter', batch_idx=idx, data_batch=data_batch)
            outputs = [self.run_episode(model, episode) for episode in data_batch]
            self.records.extend(outputs)
            self.evaluator.process(data_samples=outputs, data_batch=data_batch)
            self.runner.call_hook(
                f'after_{stage}_iter', batch_idx=idx, data_batch=data_batch, outputs=outputs)
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        if self.out_file is not None and is_main_process():
            with open(self.out_file, 'w') as f:
                json.dump(self.records, f)
        self.runner.call_hook(f'after_{stage}_epoch', metrics=metrics)
        self.runner.call_hook(f'after_{stage}')
        return metrics

    @torch.no_grad()
    def run_episode(self, model: nn.Module, episode: EpisodeData) -> dict:
        """Fit and score one episode; returns ``dict(episode_idx, classes, accuracy)``."""
        device = model.data_preprocessor.device
        episode_idx = int(episode.episode_idx)
        s_imgs = _stack(episode.support_inputs, device)
        q_imgs = _stack(episode.query_inputs, device)
        s_labels = episode.support_labels.to(device)
        q_labels = episode.query_labels.to(device)
        weights = None
        with eval_mode_guard(self._image_modules(model)):
            if self.episode_transform is not None:
                out = self.episode_transform(
                    s_imgs, s_labels, q_imgs,
                    masks_from_data_samples(episode.support_data_samples, device),
                    masks_from_data_samples(episode.query_data_samples, device),
                    episode_idx=episode_idx)
                s_imgs, s_labels = out['support_imgs'], out['support_labels']
                weights, q_imgs = out['support_weights'], out['query_imgs']
            with torch.autocast(device.type, enabled=self.fp16):
                s_feats = extract_features(model, s_imgs, self.feat_batch_size).float()
                q_feats = extract_features(model, q_imgs, self.feat_batch_size).float()
        seed = int(np.random.SeedSequence([self.fit_seed, episode_idx]).generate_state(1)[0])
        self.head.fit(
            s_feats,
            s_labels,
            num_classes=len(episode.classes),
            weights=weights,
            query_feats=q_feats if self.setting == 'transductive' else None,
            seed=seed)
        accuracy = (self.head.predict(q_feats) == q_labels).float().mean().item()
        return dict(
            episode_idx=episode_idx, classes=episode.classes.tolist(), accuracy=accuracy)
