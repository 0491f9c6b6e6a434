"""glibc's allocator tuned for training: keep freed memory instead of handing it back.

Every training step allocates and frees activations of tens of MB. By default glibc serves
each from a fresh mmap and returns it on free, so the kernel zeroes those pages again every
step (a quarter of the CPU time went to the kernel on the 2-core machine of docs/training.md); with
the thresholds raised the memory is reused. Measured there: 3.3-3.6 s -> 2.8-3.0 s per
256x144 FP32 step (docs/training.md, *Training cost*).
"""
import ctypes
import ctypes.util

M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
MMAP_THRESHOLD_MAX = 32 << 20   # glibc's ceiling on 64-bit systems
TOP_PAD = 1 << 30


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; False where the C library
    is not glibc (nothing to tune, nothing changed)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return all(mallopt(option, value) == 1 for option, value in (
        (M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX), (M_TRIM_THRESHOLD, 2**31 - 1), (M_TOP_PAD, TOP_PAD)))
