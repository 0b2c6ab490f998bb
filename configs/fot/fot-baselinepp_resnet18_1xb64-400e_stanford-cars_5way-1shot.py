# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT (arXiv 2109.05719) + Baseline++ on Stanford Cars, 5-way 1-shot, inductive: the backbone and
# the 600 episodes of the matching ../fewshot config plus the FOT episode transform, so that the two
# configs compare under identical episodes. Train first (base classes only):
#   python tools/train.py configs/fot/fot-extractor_unet_1xb32-100e_duts.py
#   python tools/train.py configs/fot/fot-generator_unet_1xb32-200e_stanford-cars-base.py
_base_ = [
    '../fewshot/baselinepp_resnet18_1xb64-400e_stanford-cars_5way-1shot.py',
    './_base_/fot_transform.py'
]
extractor_checkpoint = 'work_dirs/fot-extractor_unet_1xb32-100e_duts/epoch_100.pth'
generator_checkpoint = 'work_dirs/fot-generator_unet_1xb32-200e_stanford-cars-base/epoch_200.pth'
fot = dict(
    _base_.fot,
    extractor=dict(_base_.fot.extractor,
                   init_cfg=dict(type='Pretrained', checkpoint=extractor_checkpoint)),
    generator=dict(_base_.fot.generator,
                   init_cfg=dict(type='Pretrained', checkpoint=generator_checkpoint)),
    posture_bank=_base_.fot_base_bank)
val_cfg = dict(episode_transform=fot)
test_cfg = dict(episode_transform=fot)
