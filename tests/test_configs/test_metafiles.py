# Copyright (c) dynamicnet contributors. All rights reserved.
"""model-index.yml and every configs/<method>/metafile.yml are consistent with the files on disk."""
import glob
import os.path as osp

import pytest
from mmengine.fileio import load

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
METHOD_DIRS = sorted(
    d for d in glob.glob(osp.join(ROOT, 'configs', '*')) if osp.isdir(d)
    and osp.basename(d) != '_base_' and glob.glob(osp.join(d, '*.py')))


def test_model_index_lists_every_metafile():
    listed = set(load(osp.join(ROOT, 'model-index.yml'))['Import'])
    metafiles = glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml'))
    on_disk = {osp.relpath(p, ROOT) for p in metafiles}
    assert listed == on_disk


@pytest.mark.parametrize('method_dir', METHOD_DIRS, ids=osp.basename)
def test_method_folder_has_readme_and_valid_metafile(method_dir):
    assert osp.isfile(osp.join(method_dir, 'README.md'))
    meta = load(osp.join(method_dir, 'metafile.yml'))
    assert meta.get('Models'), 'metafile lists no models'
    for model in meta['Models']:
        assert {'Name', 'Config'} <= set(model), model
        assert osp.isfile(osp.join(ROOT, model['Config'])), model['Config']
