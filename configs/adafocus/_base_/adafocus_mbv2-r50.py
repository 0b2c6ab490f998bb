# Copyright (c) dynamicnet contributors. All rights reserved.
# AdaFocus (ActivityNet / FCVID / Mini-Kinetics path): MobileNetV2 glancer on the full 224x224
# frame, ResNet-50 focuser on a P x P patch chosen from a 7x7 grid by the PPO policy, GRU
# classifier (hidden 1024, dropout 0.8); 16 TSN segments. ImageNet-pretrained backbones are
# loaded by the stage-0 configs' init_cfg; later stages inherit weights through load_from.
model = dict(
    type='dynamicnet.AdaFocus',
    global_backbone=dict(type='mmpretrain.MobileNetV2', widen_factor=1.0, out_indices=(7, )),
    local_backbone=dict(type='mmpretrain.ResNet', depth=50, out_indices=(3, )),
    global_channels=1280,
    local_channels=2048,
    num_classes=200,
    num_segments=16,
    patch_size=128,
    input_size=224,
    glance_size=None,
    policy=dict(num_actions=49, hidden_dim=1024, gamma=0.7, clip_eps=0.2, value_coef=0.5,
                entropy_coef=0.01),
    cls_head=dict(hidden_dim=1024, dropout=0.8),
    training_stage=1,
    reward='random',
    random_patch='continuous',
    stage3_trainable=('cls_head', ),
    data_preprocessor=dict(
        type='mmpretrain.ClsDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False),  # RawFrameDecode already gives RGB
    test_cfg=dict(cost_input_shape=(16, 3, 224, 224)),
)
