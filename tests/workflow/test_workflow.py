"""The pipeline as users run it: lint, format, the DAG, and a real end-to-end run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from stratopt.data.matrix import read_matrix
from workflow_helpers import REPO, prepare_workdir, small_config_args, snakemake


def test_snakemake_lint_is_clean() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--lint"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_snakefmt_check_is_clean() -> None:
    smk = [str(REPO / "Snakefile"), str(REPO / "workflow")]
    proc = subprocess.run(
        [sys.executable, "-m", "snakefmt", "--check", *smk],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_is_clean() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "src", "tests", "scripts"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_is_clean() -> None:
    """mypy over src/ as `make lint` runs it (configuration: pyproject.toml [tool.mypy])."""
    proc = subprocess.run(
        [sys.executable, "-m", "mypy"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Success: no issues found" in proc.stdout


def test_config_schema_rejects_unknown_keys(tmp_path: Path) -> None:
    work = prepare_workdir(tmp_path)
    proc = snakemake(work, "-n", "--config", "no_such_key=1", check=False)
    assert proc.returncode != 0
    assert "no_such_key" in proc.stdout + proc.stderr


def job_counts(output: str) -> dict[str, int]:
    """The "Job stats" table of a dry run: rule -> jobs (the total row left out)."""
    lines = output.split("Job stats:", 1)[1].strip().splitlines()
    counts: dict[str, int] = {}
    for line in lines[2:]:  # the header and its rule
        if not line.strip():
            break
        rule, count = line.split()
        counts[rule] = int(count)
    assert counts.pop("total") == sum(counts.values()), output
    return counts


#: Every stage once, the correlation in `correlation.shards` (2) jobs and one optimize
#: job for every algorithm and size; `all` gathers the targets.
STAGES = {
    "ingest": 1,
    "publish_ingest": 1,
    "load_db": 1,
    "prepare": 1,
    "correlation_shard": 2,
    "correlation_summary": 1,
    "validate": 1,
    "optimize": 1,
    "select": 1,
    "store_results": 1,
    "report": 1,
    "all": 1,
}


def test_dry_run_dag_of_the_default_config(tmp_path: Path, shared_data: Path) -> None:
    """config/config.yaml in a fresh folder: the twin is made first (synth), then every
    stage; the chain job is not chosen while the twin's size is unknown."""
    work = prepare_workdir(tmp_path)
    reference = f"input={{'source': 'synthetic', 'reference_data': '{shared_data}'}}"
    proc = snakemake(work, "-n", "--config", reference)
    # one correlation shard on the twin (config.yaml: correlation.shards)
    assert job_counts(proc.stdout) == {"synth": 1, **STAGES, "correlation_shard": 1}


def test_dry_run_dag_of_the_ci_config(tmp_path: Path, real_sample_csv: Path) -> None:
    """.test/config (the CI run): the real sample, every stage as its own job (chain: never)."""
    work = prepare_workdir(tmp_path)
    proc = snakemake(work, "-n", *small_config_args(real_sample_csv))
    assert job_counts(proc.stdout) == STAGES
    # and with the correlation switched off, none of its jobs (a config file: --config
    # would give the nested value as text)
    overlay = tmp_path / "no_correlation.yaml"
    overlay.write_text("correlation: {enabled: false}\n")
    args = small_config_args(real_sample_csv)
    at = args.index("--config")
    proc = snakemake(work, "-n", *args[:at], str(overlay), *args[at:])
    assert job_counts(proc.stdout) == {
        k: v for k, v in STAGES.items() if not k.startswith("correlation")
    }


@pytest.mark.slow  # the whole pipeline through Snakemake
def test_end_to_end_small_workload(small_run: tuple[Path, list[str]]) -> None:
    work, args = small_run  # conftest.py: the CI workload, run once for the workflow tests
    results = work / "results" / "small"
    matrix = read_matrix(results / "matrix.parquet")
    assert matrix.shape == (82, 500)
    assert json.loads((results / "ingest.json").read_text())["strategies"] == 500
    for tsv in (results / "benchmarks").glob("*.tsv"):
        assert tsv.read_text().startswith("s\t")
    # the CI config validates too, and select takes its out-of-sample choice
    validation = json.loads((results / "validation.json").read_text())
    summary = json.loads((results / "summary.json").read_text())
    assert summary["best_overall"]["size"] == validation["recommended_size"]
    assert summary["best_overall_rule"]["rule"] == "out-of-sample"
    assert (results / "benchmarks" / "validate.tsv").exists()
    assert "validation" in (results / "report.html").read_text()
    # A second run has nothing to do, and learns it without importing pandas
    # (stratopt.runtime.snakemake_params: every job's params were compared).
    cmd = [sys.executable, "-X", "importtime", "-m", "snakemake", "--snakefile"]
    cmd += [str(REPO / "Snakefile"), "--directory", str(work), "--cores", "2", *args, "-n"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert "Nothing to be done" in proc.stdout + proc.stderr, proc.stderr[-3000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in proc.stderr.splitlines()}
    assert "snakemake.persistence" in imported and "pandas" not in imported


@pytest.mark.slow  # the ingest job through Snakemake
@pytest.mark.parametrize("stage", ["ingest"])
def test_one_stage_reruns_alone(tmp_path: Path, real_sample_csv: Path, stage: str) -> None:
    work = prepare_workdir(tmp_path)
    args = small_config_args(real_sample_csv)
    snakemake(work, *args, "--until", stage)
    proc = snakemake(work, *args, "-n", "-R", stage, "--until", stage)
    assert job_counts(proc.stdout) == {stage: 1}
