"""numba, loaded without its BLAS check.

When numba first compiles or loads a kernel it imports numba.np.arraymath,
which looks for a BLAS by importing scipy.linalg.cython_blas: 0.38 s of CPU
and 16 MB in every process that runs a kernel (optimize, validate, the
compiled correlation shards; docs/performance.md). No kernel of ours calls
BLAS (no np.dot, @ or np.linalg inside a kernel: the correlation's tile
products run in NumPy), so the check is made to fail: numba then refuses
np.dot in a kernel when compiling it, with its own error, and scipy still
imports normally afterwards.
"""

from __future__ import annotations

import sys

BLAS_MODULE = "scipy.linalg.cython_blas"


def skip_blas_check() -> None:
    """Import numba's array implementations with scipy's BLAS hidden, once per process."""
    if "numba.np.arraymath" in sys.modules or BLAS_MODULE in sys.modules:
        return
    sys.modules[BLAS_MODULE] = None  # type: ignore[assignment]  # its import fails at once
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if sys.modules.get(BLAS_MODULE, False) is None:
            del sys.modules[BLAS_MODULE]
