"""On few local cores validate and the correlation shards do not run together.

stratopt.runtime.scheduling registers a `side_jobs` resource of one unit per
core where validate, a shard and the search do not fit together; validate takes
every unit and a shard one, so that on two cores a shard cannot take the core
the search is waiting for, while shards still run side by side. Checked with
Snakemake itself: the resources it reports. A small search (few algorithms x
sizes) runs on one thread, leaving the other core to a shard beside it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from stratopt.runtime.scheduling import optimize_threads, side_job_slots
from workflow_helpers import prepare_workdir, small_config_args, snakemake

SNAKEFILE = """
from stratopt.runtime.scheduling import register_side_jobs

register_side_jobs(workflow, config.get("workers", 2))

rule all:
    output: "done.txt"
    shell: "echo done > {output}"
"""
PROVIDED = re.compile(r"Provided resources: .*side_jobs=Resource\(\"side_jobs\", (\d+)\)")
JOB = re.compile(r"^(?:local)?rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", re.M)


@pytest.mark.parametrize(
    ("cores", "workers", "slots"),
    [(2, 2, 2), (1, 2, 1), (3, 2, 3), (2, 1, 2), (4, 2, None), (8, 1, None), (3, 1, None)],
)
def test_a_limit_only_where_validate_a_shard_and_the_search_do_not_fit(
    cores: int, workers: int, slots: int | None
) -> None:
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
    assert provided_slots(tmp_path, "--cores", "2") == 2
    assert provided_slots(tmp_path, "--cores", "4") is None
    assert provided_slots(tmp_path, "--cores", "4", "--config", "workers=3") == 4
    assert provided_slots(tmp_path, "--cores", "2", "--resources", "side_jobs=5") == 5


def test_validate_takes_every_unit_a_shard_one_and_the_others_none(
    tmp_path: Path, real_sample_csv: Path
) -> None:
    """Two cores, two workers: validate excludes the shards; two shards fit together."""
    work = prepare_workdir(tmp_path)
    shards = tmp_path / "shards.yaml"  # numbers in --config {...} arrive as text
    shards.write_text("correlation:\n  shards: 2\n")
    args = small_config_args(real_sample_csv)
    proc = snakemake(work, "-n", *args, "chain={'mode': 'never'}", "--configfile", str(shards))
    units: dict[str, set[int]] = {}
    for rule, res in JOB.findall(proc.stdout):
        found = re.search(r"side_jobs=(\d+)", res)
        units.setdefault(rule, set()).add(int(found.group(1)) if found else 0)
    assert units["validate"] == {2}
    assert units["correlation_shard"] == {1}
    assert all(units[r] == {0} for r in units if r not in ("validate", "correlation_shard"))
    assert set(units) >= {"optimize", "select", "report", "load_db"}


@pytest.mark.parametrize(
    ("workers", "algorithms", "sizes", "threads"),
    [(2, 8, (35, 100), 2), (4, 8, (35, 42), 4), (2, 8, (35, 41), 1), (2, 8, (35, 35), 1),
     (2, 1, (35, 100), 2), (2, 1, (35, 97), 1), (1, 8, (35, 100), 1)],
)  # fmt: skip
def test_a_small_search_runs_on_one_thread(
    workers: int, algorithms: int, sizes: tuple[int, int], threads: int
) -> None:
    assert optimize_threads(workers, algorithms, *sizes) == threads


def job_threads(
    work: Path, args: list[str], *configs: str, rule: str = "optimize", cores: int = 2
) -> int:
    """A job's threads in a dry run of the real workflow (1 when not shown)."""
    files = []
    for k, text in enumerate(configs):
        files.append(work / f"extra{k}.yaml")
        files[-1].write_text(text)
    extra = ["--configfile", *map(str, files)] if files else []
    proc = snakemake(work, "-n", "--cores", str(cores), *args, "chain={'mode': 'never'}", *extra)
    block = re.search(rf"^rule {rule}:\n((?:    .*\n)*)", proc.stdout, re.M)
    assert block, proc.stdout[-2000:]
    found = re.search(r"^    threads: (\d+)$", block.group(1), re.M)
    return int(found.group(1)) if found else 1


def test_the_workflow_gives_a_small_search_one_thread(
    tmp_path: Path, real_sample_csv: Path
) -> None:
    """CI workload: 8 algorithms x sizes 5..8 = 32 units, one thread; 5..12 = 64, the workers."""
    work = prepare_workdir(tmp_path)
    args = small_config_args(real_sample_csv)
    assert job_threads(work, args) == 1
    assert job_threads(work, args, "optimize:\n  min_size: 5\n  max_size: 12\n") == 2


def test_select_takes_two_threads_only_where_no_shard_waits_for_the_core(
    tmp_path: Path, real_sample_csv: Path
) -> None:
    """Eight sizes: two threads for select's pictures, but on two cores the shards wait
    with it for the search's cores, so it takes one and runs beside a shard."""
    work = prepare_workdir(tmp_path)
    args = small_config_args(real_sample_csv)
    sizes = "optimize:\n  min_size: 5\n  max_size: 12\n"
    assert job_threads(work, args, sizes, rule="select") == 1
    assert job_threads(work, args, sizes, rule="select", cores=4) == 2
    no_shards = sizes + "correlation:\n  enabled: false\n"
    assert job_threads(work, args, no_shards, rule="select") == 2
