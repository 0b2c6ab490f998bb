# Copyright (c) dynamicnet contributors. All rights reserved.
# DVT on DeiT-S (official DVT_Deit_small): three DeiT-S exits with patch embeddings 32/32 (7x7),
# 23/23 + padding 3 (10x10) and 16/16 (14x14), feature and relationship reuse. The official
# README gives no DeiT training command; the recipe is the T2T-ViT-12 one of this folder
# (main.py defaults), with DeiT's qkv bias, LayerNorm eps 1e-6 and learned position embedding.
_base_ = ['./dvt_t2t-vit-12_8xb128_in1k.py']

exit_common = dict(
    type='dynamicnet.DVTVisionTransformer', arch='deit-small', img_size=224, drop_path_rate=0.1)
model = dict(
    backbones=[
        dict(**exit_common, patch_size=32),
        dict(**exit_common, patch_size=23, patch_padding=3, feature_reuse=True,
             relation_reuse=True),
        dict(**exit_common, patch_size=16, feature_reuse=True, relation_reuse=True),
    ])
optim_wrapper = dict(
    paramwise_cfg=dict(custom_keys={
        '.cls_token': dict(decay_mult=0.0),
        '.pos_embed': dict(decay_mult=0.0)
    }))
