# Copyright (c) dynamicnet contributors. All rights reserved.
"""get_flops.py, benchmark.py, print_config.py and publish_model.py on the tiny classifier."""
import os.path as osp
import sys

import pytest
import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(ROOT, 'tests', 'data', 'configs', 'tiny_cls_gn.py')
for sub in ('analysis_tools', 'misc', 'model_converters'):
    sys.path.insert(0, osp.join(ROOT, 'tools', sub))

import benchmark  # noqa: E402
import get_flops  # noqa: E402
import print_config  # noqa: E402
import publish_model  # noqa: E402


def _roots(root):
    return [f'{split}_dataloader.dataset.data_root={root}' for split in ('train', 'val', 'test')]


def test_get_flops_counts_convolutions_and_linear(tiny_data_root, capsys):
    root = tiny_data_root('imagenet')
    result = get_flops.main([CONFIG, '--num-samples', '2', '--cfg-options', *_roots(root)])
    # Independent count for ResNet_CIFAR-18 (stem 16, widths 16/32/64/128) on 32x32 inputs:
    # every 3x3 conv is H*W*Cout*Cin*9 MACs, shortcuts 1x1 with stride 2, plus the 128x6 head.

    def conv(hw, cin, cout, k=3):
        return hw * hw * cin * cout * k * k
    expected = conv(32, 3, 16)
    widths, sizes = (16, 32, 64, 128), (32, 16, 8, 4)
    cin = 16
    for width, size in zip(widths, sizes):
        expected += conv(size, cin, width) + conv(size, width, width)  # first block
        if cin != width:
            expected += conv(size, cin, width, k=1)  # downsample shortcut
        expected += 2 * conv(size, width, width)  # second block
        cin = width
    expected += 128 * 6
    assert result['macs'] == expected
    assert result['params'] == sum(p.numel() for p in get_flops_model_params(root))
    assert 'MACs ("FLOPs")' in capsys.readouterr().out


def get_flops_model_params(root):
    from mmengine.registry import MODELS, DefaultScope

    from dynamicnet.engine.runners import load_config
    cfg = load_config(CONFIG)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return list(MODELS.build(cfg.model).parameters())


def test_benchmark_times_on_cpu(tiny_data_root, capsys):
    root = tiny_data_root('imagenet')
    fps = benchmark.main([CONFIG, '--samples', '4', '--warmup', '1', '--log-interval', '2',
                          '--device', 'cpu', '--cfg-options', *_roots(root)])
    assert fps > 0
    assert 'Overall fps (cpu, 4 samples)' in capsys.readouterr().out


def test_print_config_resolves_and_saves(tmp_path, capsys):
    print_config.main([CONFIG, '--cfg-options', 'train_cfg.max_epochs=7', '--save-path',
                       str(tmp_path / 'out.py')])
    text = capsys.readouterr().out
    assert 'max_epochs=7' in text and "default_scope = 'mmpretrain'" in text
    assert 'max_epochs=7' in (tmp_path / 'out.py').read_text()
    with pytest.raises(ValueError, match='--save-path'):
        print_config.main([CONFIG, '--save-path', str(tmp_path / 'out.txt')])


def test_publish_model_strips_and_hashes(tmp_path):
    state = {'w': torch.arange(4.)}
    torch.save({'state_dict': state, 'optimizer': {'x': 1}, 'message_hub': {},
                'meta': {'epoch': 3, 'dataset_meta': {'classes': ('a', )}, 'cfg': 'long'}},
               tmp_path / 'epoch_3.pth')
    final = publish_model.main([str(tmp_path / 'epoch_3.pth'), str(tmp_path / 'pub' / 'net.pth')])
    assert osp.basename(final).startswith('net-') and final.endswith('.pth')
    published = torch.load(final, weights_only=True)
    assert set(published) == {'state_dict', 'meta'}
    assert published['meta'] == {'epoch': 3, 'dataset_meta': {'classes': ('a', )}}
    torch.testing.assert_close(published['state_dict']['w'], state['w'])
    with pytest.raises(KeyError, match='state_dict'):
        torch.save({'weights': state}, tmp_path / 'raw.pth')
        publish_model.main([str(tmp_path / 'raw.pth'), str(tmp_path / 'x.pth')])
