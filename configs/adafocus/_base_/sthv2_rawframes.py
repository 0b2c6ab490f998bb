# Copyright (c) dynamicnet contributors. All rights reserved.
# Something-Something V2 (174 classes): the V1 pipeline on frames extracted from the released
# .webm videos as mmaction2's tools/data/sthv2 does (every frame, img_00001.jpg ...); the
# annotation lists must count the extracted frames (check_frames stops on a mismatch).
_base_ = ['./sthv1_rawframes.py']

data_root = 'data/sthv2/'
filename_tmpl = 'img_{:05}.jpg'
train_dataloader = dict(dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl))
val_dataloader = dict(dataset=dict(data_root=data_root, filename_tmpl=filename_tmpl))
test_dataloader = val_dataloader
