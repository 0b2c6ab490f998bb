# Copyright (c) dynamicnet contributors. All rights reserved.
"""Tiny ImageNet-style folders read by mmpretrain's unchanged CustomDataset (and ImageNet)."""
import numpy as np
import pytest

pytest.importorskip('mmpretrain')

CLASSES = ('blue_square', 'green_triangle', 'orange_cross', 'purple_ring', 'red_circle',
           'yellow_star')


@pytest.fixture
def root(tiny_data_root):
    return tiny_data_root('imagenet')


def build(cfg):
    from mmengine.registry import DATASETS
    return DATASETS.build(cfg)


@pytest.mark.parametrize('split,count', [('train', 24), ('val', 8)])
def test_custom_dataset(root, split, count, default_scope, tiny_dataset_cfg):
    default_scope('mmpretrain')
    ds = build(tiny_dataset_cfg('imagenet', split, root))
    assert ds.CLASSES == CLASSES
    assert len(ds) == 6 * count
    labels = [ds.get_data_info(i)['gt_label'] for i in range(len(ds))]
    assert np.bincount(labels).tolist() == [count] * 6
    sample = ds[0]
    assert tuple(sample['inputs'].shape) == (3, 32, 32)
    assert int(sample['data_samples'].gt_label) == labels[0]


def test_annotation_file_mode(root, default_scope):
    """meta/{train,val}.txt give the same samples to CustomDataset and ImageNet."""
    default_scope('mmpretrain')
    with open(f'{root}/meta/classes.txt') as f:
        classes = tuple(line.strip() for line in f)
    assert classes == CLASSES
    folders = build(dict(type='CustomDataset', data_root=root, data_prefix='val'))
    for type_ in ('CustomDataset', 'ImageNet'):
        ds = build(
            dict(
                type=type_,
                data_root=root,
                data_prefix='val',
                ann_file='meta/val.txt',
                metainfo=dict(classes=classes)))
        assert len(ds) == len(folders) == 48
        assert [ds.get_data_info(i)['img_path']
                for i in range(48)] == [folders.get_data_info(i)['img_path'] for i in range(48)]
        assert [ds.get_data_info(i)['gt_label']
                for i in range(48)] == [folders.get_data_info(i)['gt_label'] for i in range(48)]


def test_class_learnable(root, default_scope):
    """Learnability: nearest class mean of the brightest pixels' colour classifies val."""
    default_scope('mmpretrain')
    from PIL import Image
    feats = {}
    for split in ('train', 'val'):
        ds = build(dict(type='CustomDataset', data_root=root, data_prefix=split))
        rows = []
        for i in range(len(ds)):
            info = ds.get_data_info(i)
            img = np.asarray(Image.open(info['img_path']), dtype=np.float64).reshape(-1, 3)
            top = img[np.argsort(img.max(1))[-40:]]  # the shape is brighter than the background
            rows.append((info['gt_label'], top.mean(0)))
        feats[split] = rows
    means = np.array([np.mean([f for c, f in feats['train'] if c == k], 0) for k in range(6)])
    pred = [np.argmin(np.linalg.norm(means - f, axis=1)) for _, f in feats['val']]
    accuracy = np.mean([p == c for p, (c, _) in zip(pred, feats['val'])])
    assert accuracy >= 0.95  # chance: 1/6


def test_short_run_learns(root, default_scope, tiny_base_cfg, tmp_path):
    """A 5-epoch run of a narrow ResNet-18 through mmengine's Runner with the base config:
    the training loss falls and validation top-1 is far above chance (1/6)."""
    default_scope('mmpretrain')
    from mmengine.runner import Runner

    cfg = tiny_base_cfg('imagenet')
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = root
    model = dict(
        type='ImageClassifier',
        data_preprocessor=cfg.data_preprocessor,
        backbone=dict(
            type='ResNet', depth=18, stem_channels=16, base_channels=16, out_indices=(3, )),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(
            type='LinearClsHead',
            num_classes=6,
            in_channels=128,
            loss=dict(type='CrossEntropyLoss'),
            topk=(1, )))
    runner = Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=cfg.train_dataloader,
        val_dataloader=cfg.val_dataloader,
        val_evaluator=dict(type='Accuracy', topk=(1, )),
        train_cfg=dict(by_epoch=True, max_epochs=5, val_interval=5),
        val_cfg=dict(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9)),
        default_hooks=dict(checkpoint=None, logger=dict(type='LoggerHook', interval=100)),
        default_scope='mmpretrain',
        randomness=dict(seed=0),
        log_level='WARNING')
    runner.train()
    losses = runner.message_hub.get_scalar('train/loss').data[0]
    assert len(losses) == 45  # 5 epochs x 144 / 16
    assert np.mean(losses[-9:]) < 0.5 * np.mean(losses[:9])
    metrics = runner.val()
    assert metrics['accuracy/top1'] > 60.0
