# Copyright (c) dynamicnet contributors. All rights reserved.
# The FOT episode transform (arXiv 2109.05719) with every option of fot.md §5; each is dynamicnet's
# reconstruction [unconfirmed]. A meta-test leaf inherits a few-shot config and this file, adds the
# trained checkpoints and the base-class posture bank, and sets val_cfg /
# test_cfg.episode_transform.
_base_ = ['./fot_networks.py']
fot = dict(
    type='dynamicnet.FOTTransform',
    extractor=dict(
        _base_.fot_extractor,
        fill='zero',  # 'zero' | 'mean' | 'blur'
        binarize=None,  # None (soft map) | threshold in (0, 1)
        apply_to_query=True),
    generator=dict(
        _base_.fot_generator,
        # 'base_saliency_matching' | 'random_base' | 'support_only'
        posture_source='base_saliency_matching'),
    n_aug=5,  # [design] generated samples per support image; 0 switches the generator off
    generated_weight=1.0,
    num_postures=256,
    seed=0)
