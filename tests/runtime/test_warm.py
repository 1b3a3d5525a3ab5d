"""`stratopt warm` (make setup): every numba kernel compiled once, before any pipeline job.

A machine's first run used to compile the kernels inside its jobs (64 s
instead of 20, validate at 531 MB while compiling). Checked in a fresh numba
cache: the warm-up reaches every kernel a stage calls, and a pipeline run after
it compiles nothing (no new file in the cache).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stratopt.runtime.warm import KERNEL_MODULES, REFERENCE_ONLY, kernels
from workflow_helpers import REPO, prepare_workdir, small_config_args, snakemake

SRC = REPO / "src"


def test_every_module_with_kernels_is_warmed() -> None:
    """A module that defines a numba kernel is one warm.py knows (else none of its
    kernels would be checked)."""
    defining = {
        ".".join(path.relative_to(SRC).with_suffix("").parts)
        for path in SRC.rglob("*.py")
        if re.search(r"\bnb\.njit\(|\bnumba\.njit\(|@njit\b", path.read_text(encoding="utf-8"))
    }
    assert defining == set(KERNEL_MODULES)
    names = {name for name, _ in kernels()}
    assert names >= REFERENCE_ONLY
    assert len(names) >= 30


def cache_files(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


@pytest.mark.slow  # compiles every kernel (~35 s), then a pipeline run
def test_after_the_warm_up_a_pipeline_run_compiles_nothing(
    tmp_path: Path, real_sample_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "numba-cache"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(cache))
    done = subprocess.run(
        [sys.executable, "-m", "stratopt", "warm"], capture_output=True, text=True, check=True
    )
    kernels_total = len(list(kernels()))
    assert f"in the cache: {kernels_total - len(REFERENCE_ONLY)} of {kernels_total}" in done.stdout
    assert "not reached" not in done.stdout
    warmed = cache_files(cache)
    assert any(name.endswith(".nbi") for name in warmed)

    work = prepare_workdir(tmp_path / "work")
    snakemake(work, *small_config_args(real_sample_csv), "chain={'mode': 'never'}")
    assert (work / "results" / "small" / "report.html").is_file()
    assert cache_files(cache) - warmed == set()
