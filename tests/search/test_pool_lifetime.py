"""Pool workers die with their parent (issue 17, case 8): SIGKILL of `stratopt optimize --workers 2`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import pytest

from stratopt.data.matrix import Matrix, write_matrix


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_die_when_optimize_is_killed(tmp_path: Path) -> None:
    values = np.random.default_rng(8).normal(size=(82, 300))
    dates = np.datetime64("2024-01-01") + np.arange(82) * 7
    prepared = tmp_path / "prepared.parquet"
    write_matrix(Matrix(dates, [""] * 82, [f"s{i}" for i in range(300)], values), prepared)
    # far more work than the test waits for: the workers are busy when the parent dies
    cmd = [
        *(sys.executable, "-m", "stratopt", "optimize", str(prepared), str(tmp_path / "runs")),
        *("--workers", "2", "--algorithms", "ga,rs", "--min-size", "5", "--max-size", "60"),
        *("--generations", "5000", "--no-progress"),
    ]
    parent = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    workers: list[psutil.Process] = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and parent.poll() is None:
            workers = psutil.Process(parent.pid).children()
            time.sleep(0.05)
        assert len(workers) == 2, "the pool did not start"
        os.kill(parent.pid, signal.SIGKILL)
        parent.wait(timeout=30)
        gone, alive = psutil.wait_procs(workers, timeout=15)
        assert alive == [], f"workers outlived their killed parent: {[p.pid for p in alive]}"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for worker in workers:  # only the processes this test started
            if worker.is_running():
                worker.kill()
