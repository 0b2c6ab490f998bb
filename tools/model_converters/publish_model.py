# Copyright (c) dynamicnet contributors. All rights reserved.
"""Strip a training checkpoint for release and name it with its hash (OpenMMLab convention).

    python tools/model_converters/publish_model.py IN_FILE OUT_FILE
    # writes OUT_FILE stem + '-<first 8 sha256 hex>.pth'

Optimizer state and the message hub are dropped; ``meta`` keeps only what configs and metrics need
(``dataset_meta``, ``mmengine_version``, ``epoch``/``iter``, and dynamicnet entries such as per-exit
costs). The input is read with ``weights_only=True`` under dynamicnet's checkpoint allow-list,
instead of the bare ``torch.load`` of upstream's script that fails on torch >= 2.6.
"""
import argparse
import hashlib
import io
import os
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import torch  # noqa: E402

import dynamicnet  # noqa: E402,F401  (checkpoint safe-globals allow-list)
from dynamicnet.utils.compat import atomic_write_bytes  # noqa: E402

KEPT_META = ('dataset_meta', 'mmengine_version', 'epoch', 'iter', 'exit_costs', 'seed')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Process a checkpoint to be published')
    parser.add_argument('in_file', help='input checkpoint filename')
    parser.add_argument('out_file', help='output checkpoint filename')
    return parser.parse_args(argv)


def process_checkpoint(in_file: str, out_file: str) -> str:
    """Write the stripped checkpoint and return its final path."""
    if not osp.isfile(in_file):
        raise FileNotFoundError(f'Checkpoint {in_file!r} does not exist.')
    checkpoint = torch.load(in_file, map_location='cpu', weights_only=True)
    if 'state_dict' not in checkpoint:
        raise KeyError(f'{in_file!r} has no "state_dict": it is not an mmengine checkpoint.')
    meta = checkpoint.get('meta', {}) or {}
    published = dict(
        state_dict=checkpoint['state_dict'],
        meta={k: v for k, v in meta.items() if k in KEPT_META})
    buffer = io.BytesIO()
    torch.save(published, buffer)
    data = buffer.getvalue()
    sha = hashlib.sha256(data).hexdigest()[:8]
    stem = out_file[:-4] if out_file.endswith('.pth') else out_file
    final = f'{stem}-{sha}.pth'
    os.makedirs(osp.dirname(osp.abspath(final)), exist_ok=True)
    atomic_write_bytes(data, final)
    return final


def main(argv=None):
    args = parse_args(argv)
    final = process_checkpoint(args.in_file, args.out_file)
    print(f'Published {final}')
    return final


if __name__ == '__main__':
    main()
