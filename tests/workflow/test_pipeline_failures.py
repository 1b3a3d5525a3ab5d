"""Failures through Snakemake (issue 17, cases 5 and 7): what a failed or refused run leaves.

- a failed ingest rerun keeps the last good matrix.parquet and ingest.json,
  its log holds the error, and the downstream stages show as pending;
- config meaning fails before any job runs, or (needing the data) in the
  ingest rule, whose log holds the error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from workflow_helpers import prepare_workdir, snakemake

TARGET = "results/tiny/prepared.parquet"


def _csv(sample: Path, path: Path, *, broken: bool = False) -> None:
    """30 real strategies; `broken` puts a non-numeric cell on line 5."""
    lines = sample.read_text(encoding="utf-8").splitlines()
    rows = [",".join(line.split(",")[:32]) for line in lines]
    if broken:
        cells = rows[4].split(",")
        cells[7] = "12x"
        rows[4] = ",".join(cells)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def _config(work: Path, name: str = "tiny.yaml", **optimize: object) -> Path:
    config = {
        "dataset": "tiny",
        "input": {"source": str(work / "in.csv")},
        "correlation": {"enabled": False},
        "chain": {"mode": "never"},  # one job per stage: the test names the stages' jobs
        "optimize": {
            "algorithms": ["rs"],
            "min_size": 3,
            "max_size": 4,
            "generations": 10,
            "population": 10,
            **optimize,
        },
    }
    path = work / name
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def _run(work: Path, *args: str, config: Path | None = None, check: bool = True):
    # --configfile takes several files: the targets go before it
    return snakemake(work, *args, "--configfile", str(config or work / "tiny.yaml"), check=check)


@pytest.fixture
def work(tmp_path: Path, real_sample_csv: Path) -> Path:
    work = prepare_workdir(tmp_path)
    _csv(real_sample_csv, work / "in.csv")
    _config(work)
    return work


@pytest.mark.slow  # the pipeline through Snakemake up to prepare
def test_a_failed_ingest_keeps_the_last_good_outputs(work: Path, real_sample_csv: Path) -> None:
    _run(work, TARGET)
    results = work / "results" / "tiny"
    kept = {n: (results / n).read_bytes() for n in ("matrix.parquet", "ingest.json")}
    downstream = (results / "prepared.parquet").read_bytes()

    _csv(real_sample_csv, work / "in.csv", broken=True)
    proc = _run(work, TARGET, check=False)
    assert proc.returncode != 0
    assert {n: (results / n).read_bytes() for n in kept} == kept  # not deleted, not changed
    log = (results / "logs" / "ingest.log").read_text()
    assert "line 5" in log and "non-numeric cell '12x'" in log and "in.csv" in log
    # nothing looks current: the failed stage and everything after it are pending
    dry = _run(work, TARGET, "-n").stdout
    for rule in ("rule ingest:", "rule publish_ingest:", "rule load_db:", "rule prepare:"):
        assert rule in dry
    assert (results / "prepared.parquet").read_bytes() == downstream

    _csv(real_sample_csv, work / "in.csv")  # fixed: the run completes on the source as it is now
    _run(work, TARGET)
    assert json.loads((results / "ingest.json").read_text())["strategies"] == 30
    assert "Nothing to be done" in _run(work, TARGET, "-n").stdout


def test_config_meaning_fails_before_any_job(work: Path) -> None:
    bad = _config(work, min_size=9, max_size=5, seed=3, algorithms=["rs", "nope"])
    proc = _run(work, TARGET, config=bad, check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "min_size 9 is larger than optimize.max_size 5" in out and "unknown 'nope'" in out
    assert not (work / "results").exists()  # no stage ran


@pytest.mark.slow  # the ingest job through Snakemake
def test_sizes_beyond_the_data_fail_in_the_ingest_rule(work: Path) -> None:
    too_big = _config(work, max_size=31)
    proc = _run(work, TARGET, config=too_big, check=False)
    assert proc.returncode != 0
    results = work / "results" / "tiny"
    log = (results / "logs" / "ingest.log").read_text()
    assert "optimize.max_size 31 is larger than the 30 strategies" in log
    assert not (results / "matrix.parquet").exists() and not (results / "load.json").exists()


@pytest.mark.slow  # the pipeline through Snakemake up to prepare
def test_config_against_the_last_ingest_fails_at_parse_time(work: Path) -> None:
    _run(work, TARGET)
    results = work / "results" / "tiny"
    stamp = {p: p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file()}
    for bad, message in (
        (_config(work, max_size=31), "max_size 31 is larger than the 30 strategies"),
        (
            _write(work, {"date_range": {"start": "2030-01-01"}}),
            "selects 0 of the 82 sessions",
        ),
    ):
        proc = _run(work, TARGET, "-F", config=bad, check=False)
        assert proc.returncode != 0 and message in proc.stdout + proc.stderr
    assert {p: p.stat().st_mtime_ns for p in stamp} == stamp  # no job ran


def _write(work: Path, extra: dict) -> Path:
    path = _config(work, "dates.yaml")
    config = yaml.safe_load(path.read_text())
    config.update(extra)
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
