# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT (arXiv 2109.05719) + Baseline++ on Stanford Dogs, 5-way 1-shot, inductive. The backbone and
# the
# 600 episodes are those of ../fewshot/baselinepp_resnet18_1xb64-400e_stanford-dogs_5way-1shot.py,
# so
# the two configs compare baseline and baseline + FOT under identical episodes.
# Train the extractor and the generator first (base classes only):
#   python tools/train.py configs/fot/fot-extractor_unet_1xb32-100e_duts.py
#   python tools/train.py configs/fot/fot-generator_unet_1xb32-200e_stanford-dogs-base.py
# Every FOT option below is dynamicnet's reconstruction (fot.md §4-§5 [unconfirmed]).
_base_ = ['../fewshot/baselinepp_resnet18_1xb64-400e_stanford-dogs_5way-1shot.py']
extractor_checkpoint = 'work_dirs/fot-extractor_unet_1xb32-100e_duts/epoch_100.pth'
generator_checkpoint = 'work_dirs/fot-generator_unet_1xb32-200e_stanford-dogs-base/epoch_200.pth'
fot = dict(
    type='dynamicnet.FOTTransform',
    extractor=dict(
        type='dynamicnet.SaliencyExtractor',
        fill='zero',  # 'zero' | 'mean' | 'blur'
        binarize=None,  # None (soft map) | threshold in (0, 1)
        apply_to_query=True,
        init_cfg=dict(type='Pretrained', checkpoint=extractor_checkpoint)),
    generator=dict(
        type='dynamicnet.PostureGenerator',
        # 'base_saliency_matching' | 'random_base' | 'support_only'
        posture_source='base_saliency_matching',
        init_cfg=dict(type='Pretrained', checkpoint=generator_checkpoint)),
    n_aug=5,  # [design] generated samples per support image; 0 switches the generator off
    generated_weight=1.0,
    posture_bank={{_base_.fot_base_bank}},
    num_postures=256,
    seed=0)
val_cfg = dict(episode_transform=fot)
test_cfg = dict(episode_transform=fot)
