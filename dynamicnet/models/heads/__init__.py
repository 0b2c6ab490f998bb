# Copyright (c) dynamicnet contributors. All rights reserved.
from .cam_head import CAMLossClsHead  # noqa: F401
from .condensenetv2_head import CondenseNetV2ClsHead  # noqa: F401
from .fewshot_heads import (CosineFewShotHead, CosineSimilarityClsHead,  # noqa: F401
                            LinearFewShotHead, PrototypeHead)
from .isda_bbox_head import ISDABBoxHeadMixin, ISDAShared2FCBBoxHead  # noqa: F401
from .isda_head import ISDALinearClsHead  # noqa: F401
