# Copyright (c) dynamicnet contributors. All rights reserved.
"""AdaFocus-TSM (Something-Something path, adafocus.md §4.1): temporal shift, divisions, stages,
reward, per-video cost."""
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from mmpretrain.models import MobileNetV2, ResNet

from dynamicnet.models.recognizers import adafocus_tsm
from dynamicnet.models.recognizers.adafocus_tsm import (AdaFocusTSM, add_temporal_shift,
                                                        temporal_shift)
from test_adafocus import SLIM_G, SLIM_L, _samples, check_trainable_parts  # same test folder

PARTS = ('global_backbone', 'global_head', 'local_backbone', 'local_head', 'policy')


@pytest.fixture(autouse=True)
def _scope(default_scope):
    init_default_scope('mmpretrain')


def _model(stage=1, **kwargs):
    torch.manual_seed(0)
    args = dict(global_backbone=SLIM_G, local_backbone=SLIM_L, local_channels=64, num_classes=5,
                glance_segments=4, focus_segments=6, patch_size=32, input_size=64,
                num_divisions=2, policy=dict(hidden_dim=16), training_stage=stage)
    return AdaFocusTSM(**{**args, **kwargs})


def test_temporal_shift_hand_computed():
    videos, frames, channels = 2, 3, 8
    v, t, c = torch.meshgrid(torch.arange(videos), torch.arange(frames), torch.arange(channels),
                             indexing='ij')
    x = (100 * v + 10 * t + c).float().view(videos * frames, channels, 1, 1)
    out = temporal_shift(x, frames, shift_div=4).view(videos, frames, channels)
    for i in range(videos):
        for j in range(frames):
            for k in range(channels):
                if k < 2:  # from the next frame, zero after the last
                    want = 100 * i + 10 * (j + 1) + k if j + 1 < frames else 0
                elif k < 4:  # from the previous frame, zero before the first
                    want = 100 * i + 10 * (j - 1) + k if j > 0 else 0
                else:
                    want = 100 * i + 10 * j + k
                assert out[i, j, k] == want, (i, j, k)
    with pytest.raises(ValueError):
        temporal_shift(x, 4)


def test_add_temporal_shift_places_and_keeps_parameter_names():
    # ResNet: every residual block (blockres); MobileNetV2: the 10 inverted residual blocks
    # with an identity shortcut (all expand; the first block has neither)
    for backbone, count in ((ResNet(depth=50), 16), (ResNet(depth=18), 8), (MobileNetV2(), 10)):
        keys = list(backbone.state_dict())
        assert add_temporal_shift(backbone, 4) == count
        assert list(backbone.state_dict()) == keys  # ImageNet checkpoints load unchanged
    with pytest.raises(TypeError):
        add_temporal_shift(torch.nn.Conv2d(3, 3, 1), 4)


def test_tsm_backbone_mixes_frames_of_a_video_only():
    torch.manual_seed(0)
    tsm = ResNet(depth=18, base_channels=8, out_indices=(3, ))
    tsm.eval()  # mmpretrain's ResNet.train returns None
    add_temporal_shift(tsm, 3)
    x = torch.randn(6, 3, 32, 32)  # two videos of three frames
    y = x.clone()
    y[1] += 1.0  # change frame 1 of video 0
    with torch.no_grad():
        out_x, out_y = tsm(x)[-1], tsm(y)[-1]
    assert not torch.allclose(out_x[0], out_y[0])  # frame 0 sees frame 1 through the shift
    assert torch.equal(out_x[3:], out_y[3:])  # video 1 is untouched


def test_division_states_and_patches(monkeypatch):
    model = _model().eval()
    fmap = torch.randn(2 * 4, 1280, 2, 2)  # B = 2, T_G = 4, D = 2
    states = model.policy_states(fmap)
    assert states.shape == (2, 2, 2 * 1280, 2, 2)
    # division d of video b: glancer frames 2d, 2d + 1 of that video, concatenated on channels
    assert torch.equal(states[1, 0], torch.cat([fmap[2], fmap[3]]))
    assert torch.equal(states[0, 1], torch.cat([fmap[4], fmap[5]]))
    corners = torch.tensor([[[0.0, 0.0], [1.0, 1.0]], [[0.5, 0.25], [0.0, 1.0]]])
    seen = {}
    original = adafocus_tsm.crop_patches

    def spy(images, actions, size):
        seen.update(images=images, actions=actions, size=size)
        return original(images, actions, size)

    monkeypatch.setattr(adafocus_tsm, 'crop_patches', spy)
    frames = torch.randn(2 * 6, 3, 64, 64)
    with torch.no_grad():
        logits = model.focus(frames, corners)
    assert logits.shape == (2, 5) and seen['size'] == 32
    # each corner serves the T_L / D = 3 focuser frames of its division
    expect = corners.repeat_interleave(3, dim=1).flatten(0, 1)
    assert torch.equal(seen['actions'], expect)
    assert torch.equal(seen['images'], frames)


def test_prediction_is_sum_of_consensus_logits(monkeypatch):
    model = _model(stage=3).eval()
    x = torch.randn(2, 10, 3, 64, 64)
    with torch.no_grad():
        glance_frames, focus_frames = model._split(x)
        fmap = model.global_backbone(glance_frames)[-1]
        global_logits = model.global_head(fmap.mean((2, 3))).view(2, 4, 5).mean(1)
        corners = model.choose(fmap, 'mean')
        local = model.focus(focus_frames, corners)
        out = model.forward_exits(x)[0]
    assert torch.allclose(out, global_logits + local, atol=1e-5)
    # test-time policy: the Gaussian mean, deterministic
    with torch.no_grad():
        assert torch.equal(model.choose(fmap, 'mean'), corners)
    assert ((corners > 0) & (corners < 1)).all()


@pytest.mark.parametrize('stage,kwargs,trainable', [
    (0, dict(init_target='global'), {'global_backbone', 'global_head'}),
    (0, dict(init_target='local'), {'local_backbone', 'local_head'}),
    (1, {}, {'local_backbone', 'local_head'}),
    (2, {}, {'policy'}),
    (3, {}, {'local_head'}),
    (3, dict(stage3_trainable=('local_head', 'local_backbone')), {'local_head',
                                                                  'local_backbone'}),
])
def test_stage_freezing(stage, kwargs, trainable):
    check_trainable_parts(
        _model(stage=stage, **kwargs), PARTS, trainable, torch.randn(3, 10, 3, 64, 64), [1, 4, 0])


def test_stage1_random_patches_and_stage2_reward(monkeypatch):
    model = _model(stage=1)
    modes = []
    original_choose = model.choose

    def record(fmap, mode):
        corners = original_choose(fmap, mode)
        modes.append((mode, corners))
        return corners

    monkeypatch.setattr(model, 'choose', record)
    model.train()
    model.loss(torch.randn(3, 10, 3, 64, 64), _samples([0, 1, 2]))
    assert [m for m, _ in modes] == ['random']

    model = _model(stage=2)
    modes.clear()
    original_choose = model.choose
    monkeypatch.setattr(model, 'choose', record)
    seen = {}
    original_loss = model.policy.loss

    def spy(memory):
        seen.update(rewards=torch.stack(memory.rewards), actions=torch.stack(memory.actions))
        return original_loss(memory)

    monkeypatch.setattr(model.policy, 'loss', spy)
    model.train()
    x = torch.randn(3, 10, 3, 64, 64)
    labels = torch.tensor([0, 1, 2])
    losses = model.loss(x, _samples(labels))
    assert set(losses) == {'loss_actor', 'loss_value', 'loss_entropy', 'reward'}
    assert [m for m, _ in modes] == ['rollout', 'random']
    assert seen['actions'].shape == (2, 3, 2)  # D decisions x B x (row, column)
    assert torch.equal(seen['actions'].transpose(0, 1), modes[0][1])
    # reward at the last decision: p[y] with the policy's patches minus p[y] with random ones
    # (everything but the policy is frozen in eval mode, so recomputing gives the same logits)
    with torch.no_grad():
        glance_frames, focus_frames = model._split(x)
        fmap, global_logits = model.glance(glance_frames)
        probs = [F.softmax(global_logits + model.focus(focus_frames, c), 1)[range(3), labels]
                 for _, c in modes]
    assert torch.allclose(seen['rewards'][-1], probs[0] - probs[1], atol=1e-6)
    assert torch.equal(seen['rewards'][0], torch.zeros(3))
    assert losses['reward'].item() == pytest.approx((probs[0] - probs[1]).mean().item(), abs=1e-6)
    assert len(model.memory) == 0


def test_full_size_gflops():
    """Per-video MACs = 8 F_mbv2(224) + 12 F_r50(P) + policy and heads, against Table 3's 23.5 /
    27.5 / 33.7 GFLOPs (P = 144 / 160 / 176)."""
    from dynamicnet.utils.complexity import count_macs
    glancer = MobileNetV2()
    glancer.eval()
    f_glance = count_macs(glancer, (torch.zeros(1, 3, 224, 224), ))
    paper = {144: 23.5, 160: 27.5, 176: 33.7}
    for patch, anchor in paper.items():
        torch.manual_seed(0)
        model = AdaFocusTSM(
            global_backbone=dict(type='mmpretrain.MobileNetV2'),
            local_backbone=dict(type='mmpretrain.ResNet', depth=50),
            num_classes=174, patch_size=patch).eval()
        per_video = model.exit_costs((20, 3, 224, 224))[0]
        focuser = ResNet(depth=50)
        focuser.eval()
        parts = 8 * f_glance + 12 * count_macs(focuser, (torch.zeros(1, 3, patch, patch), ))
        # policy (4 decisions) and heads: about 0.05 G
        assert 0 < per_video - parts < 0.1e9, (patch, per_video, parts)
        assert abs(per_video / 1e9 - anchor) / anchor < 0.03, (patch, per_video)


def test_invalid_arguments():
    with pytest.raises(ValueError):
        _model(num_divisions=3)
    with pytest.raises(ValueError):
        _model(stage3_trainable=('policy', ))
    with pytest.raises(ValueError):
        _model(stage=5)
    with pytest.raises(ValueError):
        _model()._split(torch.zeros(1, 9, 3, 64, 64))
