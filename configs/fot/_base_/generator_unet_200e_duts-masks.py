# Copyright (c) dynamicnet contributors. All rights reserved.
# The generator training of generator_unet_200e.py for datasets without masks (Stanford Dogs /
# Cars, mini-ImageNet): S^a and S^b are the binarised maps of the frozen extractor trained on
# DUTS-TR (../fot-extractor_unet_1xb32-100e_duts.py).
_base_ = ['./generator_unet_200e.py']
model = dict(mask_extractor=dict(
    _base_.fot_extractor, binarize=0.5,
    init_cfg=dict(type='Pretrained',
                  checkpoint='work_dirs/fot-extractor_unet_1xb32-100e_duts/epoch_100.pth')))
