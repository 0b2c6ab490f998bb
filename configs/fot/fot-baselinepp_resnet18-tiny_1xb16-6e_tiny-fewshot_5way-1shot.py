# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT + Baseline++ on the tiny few-shot data (synthetic; CPU runs/tests): the backbone and the 600
# episodes of ../fewshot/baselinepp_resnet18-tiny_1xb16-6e_tiny-fewshot_5way-1shot.py, plus the
# FOT episode transform with the tiny networks. Train first (base classes only):
#   python tools/train.py configs/fot/fot-extractor_unet-tiny_1xb16-40e_tiny-fewshot-base.py
#   python tools/train.py configs/fot/fot-generator_unet-tiny_1xb16-10e_tiny-fewshot-base.py
_base_ = [
    '../fewshot/baselinepp_resnet18-tiny_1xb16-6e_tiny-fewshot_5way-1shot.py',
    './_base_/fot_transform.py'
]
extractor_checkpoint = ('work_dirs/fot-extractor_unet-tiny_1xb16-40e_tiny-fewshot-base/'
                        'epoch_40.pth')
generator_checkpoint = ('work_dirs/fot-generator_unet-tiny_1xb16-10e_tiny-fewshot-base/'
                        'epoch_10.pth')
fot = dict(
    _base_.fot,
    extractor=dict(_base_.fot.extractor, **_base_.fot_tiny_size,
                   init_cfg=dict(type='Pretrained', checkpoint=extractor_checkpoint)),
    generator=dict(_base_.fot.generator, **_base_.fot_tiny_size,
                   init_cfg=dict(type='Pretrained', checkpoint=generator_checkpoint)),
    posture_bank=_base_.fot_base_bank,
    num_postures=100)
val_cfg = dict(episode_transform=fot)
test_cfg = dict(episode_transform=fot)
