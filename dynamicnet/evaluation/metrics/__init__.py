# Copyright (c) dynamicnet contributors. All rights reserved.
from .episodic_accuracy import EpisodicAccuracy  # noqa: F401
from .early_exit import EarlyExitMetric  # noqa: F401
