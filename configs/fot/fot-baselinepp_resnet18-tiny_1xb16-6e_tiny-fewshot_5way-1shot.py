# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT + Baseline++ on the tiny few-shot data (synthetic; CPU runs/tests): the backbone and the 600
# episodes of ../fewshot/baselinepp_resnet18-tiny_1xb16-6e_tiny-fewshot_5way-1shot.py, plus the
# FOT episode transform. Train first (base classes only):
#   python tools/train.py configs/fot/fot-extractor_unet-tiny_1xb16-40e_tiny-fewshot-base.py
#   python tools/train.py configs/fot/fot-generator_unet-tiny_1xb16-10e_tiny-fewshot-base.py
_base_ = ['../fewshot/baselinepp_resnet18-tiny_1xb16-6e_tiny-fewshot_5way-1shot.py']
extractor_checkpoint = ('work_dirs/fot-extractor_unet-tiny_1xb16-40e_tiny-fewshot-base/'
                        'epoch_40.pth')
generator_checkpoint = ('work_dirs/fot-generator_unet-tiny_1xb16-10e_tiny-fewshot-base/'
                        'epoch_10.pth')
fot = dict(
    type='dynamicnet.FOTTransform',
    extractor=dict(
        type='dynamicnet.SaliencyExtractor', base_channels=16, num_levels=3, fill='zero',
        binarize=None, apply_to_query=True,
        init_cfg=dict(type='Pretrained', checkpoint=extractor_checkpoint)),
    generator=dict(
        type='dynamicnet.PostureGenerator', base_channels=16, num_levels=3,
        posture_source='base_saliency_matching',
        init_cfg=dict(type='Pretrained', checkpoint=generator_checkpoint)),
    n_aug=5,
    generated_weight=1.0,
    posture_bank={{_base_.fot_base_bank}},
    num_postures=100,
    seed=0)
val_cfg = dict(episode_transform=fot)
test_cfg = dict(episode_transform=fot)
