# Copyright (c) dynamicnet contributors. All rights reserved.
# Ablation of fot-baselinepp_resnet18-tiny_1xb16-6e_tiny-fewshot_5way-1shot.py: the dataset masks
# replace the trained extractor (extractor.type='gt_mask'; an oracle on the novel classes, whose
# masks a real few-shot task does not have). Same backbone, generator and 600 episodes.
_base_ = ['./fot-baselinepp_resnet18-tiny_1xb16-6e_tiny-fewshot_5way-1shot.py']
gt_mask_extractor = dict(
    _delete_=True, type='dynamicnet.GTMaskExtractor', fill='zero', binarize=None,
    apply_to_query=True)
val_cfg = dict(episode_transform=dict(extractor=gt_mask_extractor))
test_cfg = dict(episode_transform=dict(extractor=gt_mask_extractor))
