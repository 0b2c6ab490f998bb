# Copyright (c) dynamicnet contributors. All rights reserved.
from .launch import (adapt_to_machine, apply_test_args, apply_train_args, close_distributed,
                     dataloader_dataset_cfgs, load_config, validate_config)

__all__ = [
    'adapt_to_machine', 'apply_test_args', 'apply_train_args', 'close_distributed',
    'dataloader_dataset_cfgs', 'load_config', 'validate_config'
]
