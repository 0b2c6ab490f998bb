# Copyright (c) dynamicnet contributors. All rights reserved.
# FOT's two networks (dynamicnet's reconstruction, fot.md §4.1-§4.2 [unconfirmed]), shared by the
# configs that train them and the meta-test configs that load them, so that a checkpoint always
# meets the architecture it was trained with.
# Foreground extractor: U-Net salient-object network (BCE + soft IoU on base-class masks).
fot_extractor = dict(type='dynamicnet.SaliencyExtractor', base_channels=16, num_levels=4)
# Posture generator: U-Net on [x_fg^a, S^a, S^b]; fill as the extractor's at meta-test.
fot_generator = dict(
    type='dynamicnet.PostureGenerator', base_channels=32, num_levels=4, fill='zero')
# Smaller networks of the tiny CPU configs (64-px synthetic data), for both.
fot_tiny_size = dict(base_channels=16, num_levels=3)
