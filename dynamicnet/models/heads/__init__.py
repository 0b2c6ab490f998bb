# Copyright (c) dynamicnet contributors. All rights reserved.
from .condensenetv2_head import CondenseNetV2ClsHead  # noqa: F401
from .fewshot_heads import (CosineFewShotHead, CosineSimilarityClsHead,  # noqa: F401
                            LinearFewShotHead, PrototypeHead)
