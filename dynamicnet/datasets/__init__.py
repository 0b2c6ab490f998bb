# Copyright (c) dynamicnet contributors. All rights reserved.
from . import samplers, transforms  # noqa: F401
from .episodic import EpisodicDataset  # noqa: F401
from .episodic_pairs import PosturePairDataset  # noqa: F401
from .episodic_splits import ClassSplitDataset  # noqa: F401
from .holdout import HoldoutSplit  # noqa: F401
from .rawframe import RawframeDataset, VideoDataset  # noqa: F401
