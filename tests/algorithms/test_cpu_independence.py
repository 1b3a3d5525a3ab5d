"""Same config and seed, same bits on every CPU.

NumPy picks SIMD code for some operations at run time (AVX2, AVX-512 or its
plain baseline), and a few of them give machine-dependent answers where the
answer is not unique: argpartition returns the k smallest in an order that
depends on the code path, and so does argsort among equal keys. The GA's
crossover used argpartition's order, so its results differed between an
AVX2 laptop, an AVX-512 cluster node and an ARM machine. This test reruns the
48 golden searches with every dispatched SIMD feature of this CPU switched
off (NPY_DISABLE_CPU_FEATURES: NumPy's baseline code, what a machine without
them runs) and wants the stored digests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def dispatched_features() -> list[str]:
    """The SIMD features beyond NumPy's baseline that this CPU has and NumPy uses."""
    from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__

    return [f for f in __cpu_dispatch__ if __cpu_features__.get(f)]


def test_the_searches_give_the_same_bits_without_the_cpus_simd_code(
    real_sample_csv: Path, tmp_path: Path
) -> None:
    features = dispatched_features()
    if not features:
        pytest.skip("this CPU runs NumPy's baseline code only: there is nothing to switch off")
    out = tmp_path / "golden.json"
    env = {**os.environ, "NPY_DISABLE_CPU_FEATURES": " ".join(features)}
    done = subprocess.run(
        [sys.executable, str(HERE / "search_golden.py"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(out.read_text())
    want = json.loads((HERE / "data" / "search_golden.json").read_text())
    assert {k for k in want if got[k] != want[k]} == set()
