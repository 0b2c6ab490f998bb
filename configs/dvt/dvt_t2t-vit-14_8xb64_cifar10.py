# Copyright (c) dynamicnet contributors. All rights reserved.
# DVT on T2T-ViT-14 fine-tuned on CIFAR-10 (paper Table 3); recipe as the T2T-ViT-12 config.
_base_ = ['./dvt_t2t-vit-12_8xb64_cifar10.py']

soft_splits = [(14, 8, 3), (11, 6, 5), (7, 4, 2)]
exit_common = dict(
    type='dynamicnet.DVTT2TViT', arch='t2t-vit-14', img_size=224, drop_path_rate=0.1)
model = dict(backbones=[
    dict(**exit_common, soft_split0=soft_splits[0]),
    dict(**exit_common, soft_split0=soft_splits[1], feature_reuse=True, relation_reuse=True),
    dict(**exit_common, soft_split0=soft_splits[2], feature_reuse=True, relation_reuse=True),
])
