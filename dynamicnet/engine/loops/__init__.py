# Copyright (c) dynamicnet contributors. All rights reserved.
from .meta_test_loop import MetaTestLoop, NovelClassLeakageError, eval_mode_guard  # noqa: F401
from .early_exit import EarlyExitTestLoop, EarlyExitValLoop  # noqa: F401
