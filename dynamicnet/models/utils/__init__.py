# Copyright (c) dynamicnet contributors. All rights reserved.
from .condensenetv2_ema import CondenseNetV2EMA
from .condensenetv2_layers import (CondensedLGC, CondensedSFR, LearnedGroupConv,
                                   SparseFeatureReactivation)
from .infopro_aux import InfoProAuxHead, InfoProDecoder, InfoProProgressiveDecoder
from .infopro_wrapper import InfoProDistributedDataParallel
from .ppo import PPOPolicy

__all__ = [
    'CondenseNetV2EMA', 'CondensedLGC', 'CondensedSFR', 'LearnedGroupConv',
    'SparseFeatureReactivation', 'InfoProAuxHead', 'InfoProDecoder', 'InfoProProgressiveDecoder',
    'InfoProDistributedDataParallel', 'PPOPolicy'
]
