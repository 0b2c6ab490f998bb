# Copyright (c) dynamicnet contributors. All rights reserved.
"""Errors that name the file or config key at fault and say how to fix it.

mmengine reports an unknown ``type`` as ``'X is not in the mmdet::model registry'`` from deep
inside a build; :func:`explain_unknown_type` turns that into a message listing the registry scope
that was searched and the closest registered names in every scope, with the prefix that reaches
them (``type='dynamicnet.Pointformer'``). :func:`friendly_errors` applies it to a block of code
(the tools use it around config loading and the Runner).
"""
import contextlib
import difflib
import re
from typing import Dict, Iterator, List, Optional

__all__ = [
    'ConfigKeyTypeError', 'DataRootNotFoundError', 'UnknownTypeError', 'data_root_hint',
    'explain_unknown_type', 'friendly_errors'
]


class ConfigKeyTypeError(TypeError):
    """A config key holds a value of the wrong type; the message names the key."""


class DataRootNotFoundError(FileNotFoundError):
    """A dataset's ``data_root`` is missing; the message names the commands that make it."""


class UnknownTypeError(KeyError):
    """A config ``type`` that no registry in the searched scope knows."""

    def __str__(self) -> str:  # KeyError would repr() the message and mangle the newlines.
        return str(self.args[0])


def data_root_hint(dataset_type: str, root: str) -> str:
    """The commands that create ``root``: the tiny generator and the upstream converter."""
    from dynamicnet.datasets.tiny import TINY_DATASETS

    short = dataset_type.split('.')[-1]
    for name, info in TINY_DATASETS.items():
        if short in info.dataset_types:
            return (f'Tiny {name} data for tests and demos (seconds):\n'
                    f'    python tools/dataset_converters/make_tiny_data.py {name} --out {root}\n'
                    f'Real data: {info.converter_command}')
    names = ', '.join(sorted(TINY_DATASETS))
    return (f'Create the dataset or point data_root at it (--cfg-options ...data_root=PATH). '
            f'Tiny generators exist for: {names} '
            f'(python tools/dataset_converters/make_tiny_data.py NAME --out DIR).')


_UNKNOWN_TYPE = re.compile(r'(?P<key>[\w.]+) is not in the (?:(?P<scope>\w+)::)?(?P<name>[\w ]+?) '
                           r'registry')


def _root_registry(name: str):
    import mmengine.registry.root as root_module
    from mmengine.registry import Registry

    for value in vars(root_module).values():
        if isinstance(value, Registry) and value.name == name:
            return value
    return None


def _registered_names(root) -> Dict[str, List[str]]:
    """``{scope: [names]}`` over the root registry and all its descendants."""
    from dynamicnet.registry import DynamicnetRegistry

    table: Dict[str, List[str]] = {}
    stack = [root]
    while stack:
        registry = stack.pop()
        with contextlib.suppress(Exception):
            registry.import_from_location()
        if isinstance(registry, DynamicnetRegistry):
            with contextlib.suppress(Exception):
                registry._import_optional_locations()
        table.setdefault(registry.scope, []).extend(registry.module_dict)
        stack.extend(registry.children.values())
    return table


def explain_unknown_type(message: str) -> Optional[str]:
    """Rewrite mmengine's unknown-type message, or return ``None`` if it is not one."""
    match = _UNKNOWN_TYPE.search(message)
    if match is None:
        return None
    key, scope, name = match.group('key'), match.group('scope'), match.group('name')
    wanted = key.split('.')[-1]
    root = _root_registry(name)
    lines = [f'Unknown type {key!r}: the {name!r} registry of scope {scope or "?"!r} (and its '
             f'parents) has no such entry.']
    if root is not None:
        candidates = []
        for reg_scope, names in _registered_names(root).items():
            for close in difflib.get_close_matches(wanted, names, n=3, cutoff=0.6):
                prefix = '' if reg_scope in (scope, 'mmengine') else f'{reg_scope}.'
                candidates.append((difflib.SequenceMatcher(None, wanted, close).ratio(),
                                   f"type='{prefix}{close}'"))
        candidates.sort(reverse=True)
        if candidates:
            lines.append('Close matches: ' + ', '.join(c for _, c in candidates[:5]) + '.')
        else:
            lines.append('No close match in any scope.')
    lines.append("A component of another library needs its scope prefix (type='dynamicnet.X', "
                 "type='mmdet.X') or custom_imports=dict(imports=['my_pkg.my_module']).")
    return '\n'.join(lines)


@contextlib.contextmanager
def friendly_errors() -> Iterator[None]:
    """Re-raise unknown-``type`` KeyErrors with the scope searched and close matches."""
    try:
        yield
    except KeyError as err:
        text = str(err.args[0]) if err.args else ''
        explained = explain_unknown_type(text)
        if explained is None:
            raise
        raise UnknownTypeError(f'{explained}\n(original error: {text})') from err
