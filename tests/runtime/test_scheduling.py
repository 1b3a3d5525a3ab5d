"""On few local cores the side jobs (validate, correlation shards) run one at a time.

stratopt.runtime.scheduling registers a `side_jobs` resource of cores - workers
slots (at least one) for local runs; the workflow's validate and correlation
shard jobs take one each, so that on two cores a shard cannot take the core the
search is waiting for. Checked with Snakemake itself: the resources it reports.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stratopt.runtime.scheduling import side_job_slots
from workflow_helpers import prepare_workdir, small_config_args, snakemake

SNAKEFILE = """
from stratopt.runtime.scheduling import register_side_jobs

register_side_jobs(workflow, config.get("workers", 2))

rule all:
    output: "done.txt"
    shell: "echo done > {output}"
"""
PROVIDED = re.compile(r"Provided resources: .*side_jobs=Resource\(\"side_jobs\", (\d+)\)")


@pytest.mark.parametrize(
    ("cores", "workers", "slots"), [(2, 2, 1), (1, 2, 1), (4, 2, 2), (8, 1, 7)]
)
def test_slots_leave_the_search_its_cores(cores: int, workers: int, slots: int) -> None:
    assert side_job_slots(cores, workers) == slots


def provided_slots(workdir: Path, *args: str) -> int | None:
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--forceall", *args],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found = PROVIDED.search(done.stdout + done.stderr)
    return int(found.group(1)) if found else None


def test_a_local_run_gets_the_limit_and_the_command_line_wins(tmp_path: Path) -> None:
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    assert provided_slots(tmp_path, "--cores", "2") == 1
    assert provided_slots(tmp_path, "--cores", "4") == 2
    assert provided_slots(tmp_path, "--cores", "4", "--config", "workers=1") == 3
    assert provided_slots(tmp_path, "--cores", "2", "--resources", "side_jobs=5") == 5


def test_the_workflows_side_jobs_take_a_slot_and_the_others_none(
    tmp_path: Path, real_sample_csv: Path
) -> None:
    work = prepare_workdir(tmp_path)
    args = small_config_args(real_sample_csv)
    proc = snakemake(work, "-n", *args, "chain={'mode': 'never'}")
    jobs = re.findall(
        r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", proc.stdout, re.M
    )
    taking = {rule for rule, res in jobs if "side_jobs=1" in res}
    assert taking == {"validate", "correlation_shard"}
    assert {rule for rule, _ in jobs} >= {"optimize", "select", "report", "load_db"}
