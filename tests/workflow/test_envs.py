"""Each rule's conda env lists what that rule imports, and the config picks its variant."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from workflow_helpers import REPO, prepare_workdir, snakemake

ENV_LINE = re.compile(r"Hashing conda environment \S*envs/(\S+)\.yaml")


def test_envs_are_what_the_rules_import() -> None:
    """envs/*.yaml equal what scripts/dev/envs.py derives from the code's imports now."""
    proc = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "dev" / "envs.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, "run scripts/dev/envs.py: " + proc.stdout + proc.stderr


def test_envs_differ_by_rule() -> None:
    """No two rules share a near-identical env (the issue: 12 copies of one list)."""
    lists = {
        p.stem: frozenset(re.findall(r"^ {6}- ([A-Za-z0-9_.-]+)", p.read_text(), re.M))
        for p in (REPO / "envs").glob("*.yaml")
    }
    assert len(set(lists.values())) >= len(lists) // 2, lists  # not one list copied 12 times
    assert "numba" not in lists["ingest"] and "duckdb" not in lists["optimize"]
    assert "heavyai" in lists["database.heavydb"] and "heavyai" not in lists["database"]


def _envs_used(tmp_path: Path, sample: Path, *config: str) -> set[str]:
    """The env files Snakemake reads for the default target under `config` (no conda needed)."""
    work = prepare_workdir(tmp_path)
    source = f"input={{'source': '{sample}'}}"
    proc = snakemake(work, "--containerize", "--config", source, *config, check=False, timeout=300)
    return set(ENV_LINE.findall(proc.stdout + proc.stderr))


@pytest.mark.parametrize(
    ("config", "expected", "absent"),
    [
        ((), {"optimize", "correlation", "database", "ingest", "report", "select"}, set()),
        (
            ("optimize={'backend': 'cupy'}", "correlation={'backend': 'cupy'}"),
            {"optimize.gpu", "correlation.gpu", "correlation"},  # the summary stays on the CPU
            {"optimize"},
        ),
        (("database={'backend': 'heavydb'}",), {"database.heavydb"}, {"database"}),
    ],
)
def test_config_picks_the_env_variant(
    tmp_path: Path,
    real_sample_csv: Path,
    config: tuple[str, ...],
    expected: set[str],
    absent: set[str],
) -> None:
    used = _envs_used(tmp_path, real_sample_csv, *config)
    assert expected <= used, used
    assert not absent & used, used
    for name in used:
        assert (REPO / "envs" / f"{name}.yaml").is_file()
