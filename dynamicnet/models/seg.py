# Copyright (c) dynamicnet contributors. All rights reserved.
"""Segmentation components: they need mmsegmentation and are imported on first lookup miss."""
from .heads.isda_decode_heads import (ISDAASPPHead, ISDADecodeHeadMixin, ISDAFCNHead,  # noqa: F401
                                      ISDAPSPHead)
from .segmentors.infopro_seg import InfoProEncoderDecoder  # noqa: F401
