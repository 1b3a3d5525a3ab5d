"""Handing freed memory back to the system, so that a stage's resident peak is its data's.

NumPy and Arrow free large temporaries to glibc's heap, which keeps them
(counted in the process's resident memory) unless asked to trim; every stage
must stay under its memory target (docs/performance.md).
"""

from __future__ import annotations

import contextlib
import ctypes


def release_freed_memory() -> None:
    """glibc malloc_trim(0): freed heap pages go back to the system (elsewhere: nothing)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
