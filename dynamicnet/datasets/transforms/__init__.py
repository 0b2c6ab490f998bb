# Copyright (c) dynamicnet contributors. All rights reserved.
from .fot import FOTTransform, LoadForegroundMask  # noqa: F401
from .video import (FormatShape, MultiScaleCrop, OpenCVDecode, OpenCVInit,  # noqa: F401
                    PackActionInputs, RawFrameDecode, SampleFrameGroups, SampleFrames,
                    VideoCenterCrop, VideoFlip, VideoResize)
