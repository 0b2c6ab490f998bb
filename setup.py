# Copyright (c) dynamicnet contributors. All rights reserved.
"""Packaging for dynamicnet.

The OpenMMLab stack cannot be installed by ``pip install .`` alone on the supported machines
(mmcv 2.1.0 must be compiled with a C++20 patch, mmdet3d needs ``--no-deps``): use
``tools/setup_env.sh``, which installs the pinned stack and then this package. ``install_requires``
names the pure-Python pins only, so that installing dynamicnet never triggers an mmcv rebuild.

``dynamicnet/.mim`` holds committed symbolic links to ``configs/``, ``tools/`` and
``model-index.yml``: editable installs read them in place, and wheels and source distributions
copy the linked files, so ``_base_ = 'dynamicnet::<folder>/<file>.py'`` works in both.
"""
import os
import os.path as osp

from setuptools import find_packages, setup

ROOT = osp.dirname(osp.abspath(__file__))


def read_requirements(name: str) -> list:
    """Requirement lines of ``requirements/<name>.txt`` without comments."""
    lines = []
    with open(osp.join(ROOT, 'requirements', f'{name}.txt')) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line:
                lines.append(line)
    return lines


def mim_files() -> list:
    """Files under ``dynamicnet/.mim`` (through its links), relative to the package."""
    package_dir = osp.join(ROOT, 'dynamicnet')
    files = []
    for base, _, names in os.walk(osp.join(package_dir, '.mim'), followlinks=True):
        for name in names:
            if name.endswith(('.pyc', '.pyo')) or '__pycache__' in base:
                continue
            files.append(osp.relpath(osp.join(base, name), package_dir))
    return files


def get_version() -> str:
    scope: dict = {}
    with open(osp.join(ROOT, 'dynamicnet', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


if __name__ == '__main__':
    setup(
        name='dynamicnet',
        version=get_version(),
        description='Dynamic and efficient deep networks on OpenMMLab 2.x',
        long_description=open(osp.join(ROOT, 'README.md'), encoding='utf-8').read(),
        long_description_content_type='text/markdown',
        python_requires='>=3.11,<3.13',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'projects', 'data')),
        package_data={'dynamicnet': mim_files()},
        include_package_data=False,
        install_requires=['mmengine==0.10.7', 'numpy>=2.0,<2.4'],
        extras_require={
            'mim': read_requirements('mminstall'),
            'det3d': read_requirements('optional'),
            'tests': read_requirements('tests'),
        },
        license='Apache License 2.0',
        zip_safe=False)
