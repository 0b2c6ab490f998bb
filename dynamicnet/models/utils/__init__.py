# Copyright (c) dynamicnet contributors. All rights reserved.
from .infopro_aux import InfoProAuxHead, InfoProDecoder, InfoProProgressiveDecoder
from .infopro_wrapper import InfoProDistributedDataParallel

__all__ = [
    'InfoProAuxHead', 'InfoProDecoder', 'InfoProProgressiveDecoder', 'InfoProDistributedDataParallel'
]
