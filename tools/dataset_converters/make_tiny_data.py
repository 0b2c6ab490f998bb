# Copyright (c) dynamicnet contributors. All rights reserved.
"""Write tiny, learnable datasets in the real on-disk formats of the upstream dataset classes.

Examples::

    python tools/dataset_converters/make_tiny_data.py scannet --out data/tiny/scannet
    python tools/dataset_converters/make_tiny_data.py scannet imagenet --out data/tiny
    python tools/dataset_converters/make_tiny_data.py all            # each to data/tiny/<name>
    python tools/dataset_converters/make_tiny_data.py imagenet --set num_train_per_class=64

With one NAME, ``--out`` is that dataset's root; with several (or ``all``) it is the parent
directory and each dataset goes to ``<out>/<name>``; without ``--out`` each goes to its default
root ``data/tiny/<name>``. A root already generated with the same arguments is skipped unless
``--force`` is given.
"""
import argparse
import ast
import importlib.util
import os.path as osp
import sys
import time
from types import ModuleType
from typing import Any, Dict, List


def load_tiny() -> ModuleType:
    """``dynamicnet.datasets.tiny`` without running ``dynamicnet``'s package imports.

    The generators need only numpy and Pillow; importing them through ``dynamicnet`` would
    first import torch and the whole upstream stack (tens of seconds on a busy machine).
    """
    package = importlib.util.find_spec('dynamicnet')  # locates without importing
    if package is None:
        sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
        package = importlib.util.find_spec('dynamicnet')
    folder = osp.join(package.submodule_search_locations[0], 'datasets', 'tiny')
    spec = importlib.util.spec_from_file_location(
        'dynamicnet_tiny_cli', osp.join(folder, '__init__.py'), submodule_search_locations=[folder])
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


tiny = load_tiny()
TINY_DATASETS, make_tiny_dataset, read_stamp = (tiny.TINY_DATASETS, tiny.make_tiny_dataset,
                                                tiny.read_stamp)


def parse_overrides(items: List[str]) -> Dict[str, Any]:
    """``['num_train=4', 'points_per_scene=(500, 800)']`` -> keyword arguments."""
    overrides = {}
    for item in items:
        key, sep, value = item.partition('=')
        if not sep:
            raise SystemExit(f'--set expects KEY=VALUE, got {item!r}')
        try:
            overrides[key] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            overrides[key] = value
    return overrides


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog='datasets:\n' + '\n'.join(f'  {info.name:<10} {info.description}'
                                         for info in TINY_DATASETS.values()))
    parser.add_argument(
        'names', nargs='+', metavar='NAME', help=f'{", ".join(TINY_DATASETS)} or all')
    parser.add_argument('--out', help='dataset root (one NAME) or parent directory (several)')
    parser.add_argument('--seed', type=int, default=0, help='random seed (default 0)')
    parser.add_argument('--force', action='store_true', help='regenerate even if present')
    parser.add_argument(
        '--set',
        nargs='+',
        default=[],
        metavar='KEY=VALUE',
        help='generator options for a single NAME, e.g. num_train=16 (Python literals)')
    args = parser.parse_args(argv)
    names = list(TINY_DATASETS) if args.names == ['all'] else args.names
    unknown = [n for n in names if n not in TINY_DATASETS]
    if unknown:
        parser.error(f'unknown dataset(s) {unknown}; choose from {list(TINY_DATASETS)} or all')
    if args.set and len(names) != 1:
        parser.error('--set applies to a single NAME')
    args.names = names
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    overrides = parse_overrides(args.set)
    for name in args.names:
        if args.out is None:
            root = TINY_DATASETS[name].default_root
        elif len(args.names) == 1:
            root = args.out
        else:
            root = osp.join(args.out, name)
        before = read_stamp(root)
        start = time.perf_counter()
        make_tiny_dataset(name, root, seed=args.seed, force=args.force, **overrides)
        stamp = read_stamp(root)
        fresh = before != stamp or args.force
        state = f'wrote in {time.perf_counter() - start:.1f} s' if fresh else 'already present'
        print(f'{name}: {root} ({state}, seed {stamp["seed"]})')
        for line in stamp['summary']:
            print(f'    {line}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
