# Copyright (c) dynamicnet contributors. All rights reserved.
from .fewshot_heads import (CosineFewShotHead, CosineSimilarityClsHead,  # noqa: F401
                            LinearFewShotHead, PrototypeHead)
