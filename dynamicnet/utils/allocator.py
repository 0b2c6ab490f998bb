# Copyright (c) dynamicnet contributors. All rights reserved.
"""The process's C allocator and the page faults it causes, for CPU benchmarks.

With glibc's defaults, blocks above the (dynamic) mmap threshold are mapped on their own and
unmapped on ``free``, and free memory at the top of the heap is trimmed: a buffer that PyTorch
or oneDNN allocates afresh at every call is zero-filled by the kernel page by page (4 KiB, about
2-2.5 us each on the machine of the READMEs) at every call. Caching allocators (jemalloc,
tcmalloc, which PyTorch's CPU launcher ``python -m torch.backends.xeon.run_cpu`` preloads) keep
freed memory instead. :func:`keep_freed_memory` asks glibc to do the same, for the benchmarks
under ``tools/analysis_tools`` that report both settings.
"""
import ctypes
import ctypes.util
import mmap
import resource
from typing import Callable

__all__ = ['keep_freed_memory', 'minor_page_faults', 'page_faults_counted']

# malloc.h
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_M_MMAP_MAX = -4
# glibc's largest mmap threshold on 64-bit systems (HEAP_MAX / 2).
_MAX_MMAP_THRESHOLD = 32 << 20


def keep_freed_memory(every_size: bool = False) -> bool:
    """Make glibc's malloc keep freed memory in the process, as caching allocators do.

    Freed memory is never trimmed from the heap, so a buffer freed by one call is reused by the
    next instead of being returned to the OS and page-faulted in again. Process-wide and not
    undone: call it at the start of a benchmark process.

    Args:
        every_size: False: blocks up to 32 MiB (glibc's largest mmap threshold) come from the
            heap, larger ones are still mapped on their own. True: no block is mapped on its
            own (``mallopt(M_MMAP_MAX, 0)``, as the environment variables
            ``MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=...`` do), which also keeps activations
            above 32 MiB.

    Returns:
        False where the C library is not glibc (nothing changed), else whether glibc accepted
        every setting.
    """
    libc_name = ctypes.util.find_library('c')
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name)
    if not hasattr(libc, 'mallopt'):
        return False
    mapping = ((_M_MMAP_MAX, 0) if every_size else (_M_MMAP_THRESHOLD, _MAX_MMAP_THRESHOLD))
    return bool(libc.mallopt(*mapping)) and bool(libc.mallopt(_M_TRIM_THRESHOLD, 2**31 - 1))


def minor_page_faults(fn: Callable[[], object]) -> int:
    """Minor page faults of the process during one call of ``fn``."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    fn()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def page_faults_counted() -> bool:
    """Whether this system counts minor page faults in ``getrusage``.

    Some sandboxed kernels (gVisor, for one) always report 0. Touching every page of a fresh
    4 MiB anonymous mapping must fault at least once per 64 KiB even with fault-around.
    """
    def touch_fresh_pages():
        with mmap.mmap(-1, 4 << 20) as region:
            for offset in range(0, len(region), mmap.PAGESIZE):
                region[offset] = 1

    return minor_page_faults(touch_fresh_pages) >= 64
