"""What the report says about where it ran: machine, package versions, git commit."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import psutil

# The packages whose versions decide the numbers and the speed of a run.
PACKAGES = (
    "stratopt",
    "numpy",
    "pandas",
    "pyarrow",
    "duckdb",
    "scipy",
    "snakemake",
    "matplotlib",
    "pillow",
    "jinja2",
    "py-spy",
    "psutil",
    "heavyai",
    "pyheavydb",
    "cupy-cuda12x",
)


def package_versions(names: tuple[str, ...] = PACKAGES) -> list[tuple[str, str]]:
    """(name, version) for each installed package of `names`; absent ones are skipped."""
    rows = []
    for name in names:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            continue
    return rows


def git_commit(where: str | Path = ".") -> str:
    """The commit checked out at `where`, or a plain word when there is none."""
    if not shutil.which("git"):
        return "unknown (git not installed)"
    try:
        out = subprocess.run(
            ["git", "-C", str(where), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (
        out.stdout.strip()
        if out.returncode == 0
        else "unknown (not a git checkout or no commit yet)"
    )


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpus() -> list[str]:
    """NVIDIA GPUs as nvidia-smi lists them (name, memory); empty without one."""
    if not shutil.which("nvidia-smi"):
        return []
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    return (
        [line.strip() for line in out.stdout.splitlines() if line.strip()]
        if out.returncode == 0
        else []
    )


def machine() -> dict[str, Any]:
    return {
        "host": platform.node(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "cpu": cpu_model(),
        "cores_logical": os.cpu_count(),
        "cores_physical": psutil.cpu_count(logical=False),
        "memory_gb": psutil.virtual_memory().total / 2**30,
        "gpus": gpus(),
    }
