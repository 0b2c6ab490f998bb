# Copyright (c) dynamicnet contributors. All rights reserved.
"""dynamicnet.utils.allocator: glibc's malloc settings and the minor page faults they remove."""
import os.path as osp
import resource
import subprocess
import sys
from typing import List

import pytest

from dynamicnet.utils import allocator

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
MSDNET = osp.join(ROOT, 'configs', 'msdnet', 'msdnet-b3_1xb16_tiny-imagenet.py')

# Allocator settings are process-wide: each check runs in a fresh process whose last argument
# is the setting: 'system' (glibc's defaults), 'kept' or 'kept-every-size'.
SET_ALLOCATOR = """
import sys
from dynamicnet.utils.allocator import keep_freed_memory, minor_page_faults
if sys.argv[-1] != 'system':
    assert keep_freed_memory(every_size=sys.argv[-1] == 'kept-every-size')
"""


def run_fresh(script: str, *args: str) -> List[int]:
    """Integers on the last line ``SET_ALLOCATOR + script`` prints in a new interpreter."""
    out = subprocess.run([sys.executable, '-c', SET_ALLOCATOR + script, *args], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout
    return [int(word) for word in out.splitlines()[-1].split()]


HEAP_OF_ONE_BLOCK = """
import ctypes, ctypes.util


class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        'arena', 'ordblks', 'smblks', 'hblks', 'hblkhd', 'usmblks', 'fsmblks', 'uordblks',
        'fordblks', 'keepcost')]


libc = ctypes.CDLL(ctypes.util.find_library('c'))
libc.mallinfo2.restype = MallInfo2
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
before = libc.mallinfo2()
block = libc.malloc(int(sys.argv[1]) << 20)
during = libc.mallinfo2()
libc.free(block)
after = libc.mallinfo2()
print(during.hblks - before.hblks, after.fordblks - before.fordblks)
"""


@pytest.mark.parametrize('mib,setting,expect_mapped', [
    (24, 'system', True), (24, 'kept', False), (24, 'kept-every-size', False),
    (48, 'kept', True), (48, 'kept-every-size', False)])
def test_kept_freed_memory_serves_blocks_from_the_heap(mib, setting, expect_mapped):
    """The setting itself, read from glibc's ``mallinfo2`` (no fault counter needed)."""
    mapped, kept_free = run_fresh(HEAP_OF_ONE_BLOCK, str(mib), setting)
    if expect_mapped:
        # mapped on its own and unmapped on free: the next call faults it in again
        assert (mapped, kept_free) == (1, 0)
    else:
        # from the heap, and it stays there, free, for the next call (the heap grows by less
        # than the block where free space at its top already covered part of it)
        assert mapped == 0 and kept_free > (mib - 4) << 20


def test_page_faults_not_counted_where_getrusage_reports_none(monkeypatch):
    # a kernel that does not count minor faults (CI's, once) reports the same ru_minflt
    frozen = resource.getrusage(resource.RUSAGE_SELF)
    monkeypatch.setattr(allocator.resource, 'getrusage', lambda who: frozen)
    assert not allocator.page_faults_counted()
    assert allocator.minor_page_faults(lambda: bytearray(8 << 20)) == 0


FAULTS_OF_ONE_FORWARD = """
import torch
from mmengine.registry import MODELS, init_default_scope
from dynamicnet.engine.runners import load_config
torch.set_num_threads(1)
torch.manual_seed(0)
cfg = load_config(sys.argv[1], None)
init_default_scope(cfg.default_scope)
model = MODELS.build(cfg.model).eval()
inputs = torch.randn(128, 3, 32, 32)
with torch.no_grad():
    for _ in range(2):
        model.forward_exits(inputs)
    # the fewest of three calls: the kernel may reclaim idle heap pages between calls (DAMON)
    print(min(minor_page_faults(lambda: model.forward_exits(inputs)) for _ in range(3)))
"""


def test_kept_freed_memory_removes_the_page_faults_of_the_tiny_msdnet():
    if not allocator.page_faults_counted():
        pytest.skip('this kernel does not count minor page faults (getrusage reports 0); '
                    'test_kept_freed_memory_serves_blocks_from_the_heap checks the setting')
    faults = {setting: run_fresh(FAULTS_OF_ONE_FORWARD, MSDNET, setting)[-1]
              for setting in ('system', 'kept')}
    # glibc's defaults here: oneDNN's per-call buffers are mapped afresh and zero-filled on every
    # call (10 000-12 000 pages of 4 KiB at batch 128). CI's machine counts faults yet saw none
    # with the defaults (its allocator or oneDNN build keeps these buffers): nothing to remove.
    if faults['system'] < 2000:
        pytest.skip(f'glibc defaults already fault only {faults["system"]} pages per call here; '
                    'test_kept_freed_memory_serves_blocks_from_the_heap checks the setting')
    assert faults['kept'] < 0.05 * faults['system']
