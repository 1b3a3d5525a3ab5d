"""Kernels run without numba's BLAS check (engine/numba_setup.py), and scipy still imports."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys, numpy as np
from stratopt.engine.kernels import population_stats
from stratopt.algorithms import compiled, sum_tree, bo_algebra
from stratopt.correlation import fused
import numba.np.arraymath as arraymath
print("blas checked:", arraymath._HAVE_BLAS, "scipy.linalg loaded:", "scipy.linalg" in sys.modules)
import scipy.linalg
print("scipy.linalg later:", scipy.linalg.cho_solve is not None)
"""


def test_kernel_modules_skip_the_blas_check_and_leave_scipy_importable() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    lines = out.stdout.strip().splitlines()
    assert lines[-2] == "blas checked: False scipy.linalg loaded: False"
    assert lines[-1] == "scipy.linalg later: True"


def test_nothing_is_hidden_where_scipy_linalg_was_loaded_first() -> None:
    code = "import scipy.linalg.cython_blas\n" + CODE
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-2] == "blas checked: True scipy.linalg loaded: True"
