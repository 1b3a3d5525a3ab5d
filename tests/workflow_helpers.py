"""Running the real Snakemake command line against the repository's workflow."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def prepare_workdir(tmp: Path) -> Path:
    """A working directory with the repository's config/ (configfile resolves against it)."""
    shutil.copytree(REPO / "config", tmp / "config", dirs_exist_ok=True)
    return tmp


def snakemake(
    workdir: Path, *args: str, timeout: int = 900, check: bool = True
) -> subprocess.CompletedProcess[str]:
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(workdir),
        "--cores",
        "2",
        *args,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and proc.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}"
        )
    return proc


def small_config_args(sample_csv: Path, dataset: str = "small") -> list[str]:
    """The CI workload (.test/config) on the real sample, by absolute path."""
    return [
        "--configfile",
        str(REPO / ".test" / "config" / "config.yaml"),
        "--config",
        f"dataset={dataset}",
        f"input={{'source': '{sample_csv}'}}",
    ]
