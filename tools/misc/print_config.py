# Copyright (c) dynamicnet contributors. All rights reserved.
"""Print the fully resolved config (all ``_base_`` files merged, ``--cfg-options`` applied).

    python tools/misc/print_config.py CONFIG [--cfg-options k=v ...] [--save-path out.py]
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from mmengine.config import DictAction  # noqa: E402

import dynamicnet  # noqa: E402,F401
from dynamicnet.engine.runners import load_config  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Print the whole config')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--save-path', default=None, help='save the resolved config to this file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of the config, key=value pairs')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = load_config(args.config, args.cfg_options)
    print(cfg.pretty_text)
    if args.save_path is not None:
        if not args.save_path.endswith(('.py', '.json', '.yml', '.yaml')):
            raise ValueError(f'--save-path {args.save_path!r} must end with .py, .json, .yml '
                             'or .yaml')
        cfg.dump(args.save_path)
        print(f'Config saved to {args.save_path}')


if __name__ == '__main__':
    main()
