# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT foreground extractor trained on generic salient-object data (DUTS-TR, 10,553 images with
# masks), for datasets without mask annotations (Stanford Dogs / Cars, mini-ImageNet); fot.md
# §4.1 names DUTS as one option [unconfirmed]. Layout:
# data/DUTS/DUTS-TR/DUTS-TR-Image/*.jpg and data/DUTS/DUTS-TR/DUTS-TR-Mask/*.png.
_base_ = ['./_base_/extractor_unet_100e.py']
image_size = 224
train_dataloader = dict(
    batch_size=32, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='CustomDataset', data_root='data/DUTS/', data_prefix='DUTS-TR/DUTS-TR-Image',
        with_label=False,
        pipeline=[
            dict(type='LoadImageFromFile'),
            dict(type='dynamicnet.LoadForegroundMask', img_dir='DUTS-TR-Image',
                 mask_dir='DUTS-TR-Mask'),
            dict(type='Resize', scale=(image_size, image_size)),
            dict(type='RandomFlip', prob=0.5, direction='horizontal'),
            dict(type='PackInputs', algorithm_keys=('gt_seg_map', )),
        ]))
