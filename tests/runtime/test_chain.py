"""The chain job: every stage in one process writes what one job per stage writes.

Small inputs (config chain.mode auto, at most chain.max_strategies strategies)
run as one Snakemake job (workflow/rules/chain.smk, stratopt.runtime.chain); the
files must be those of the per-stage layout, bit for bit, apart from the
measured seconds, the logs, the benchmark files and the report that shows
them, and the DuckDB file (its bytes vary with the writer; its tables leave
it as Parquet/CSV, which are compared).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workflow_helpers import comparable, prepare_workdir, small_config_args, snakemake

DATASET = "small"
NOT_COMPARED = ("logs", "benchmarks", "profiles", "report.html", "snakemake-report")
JOB = re.compile(r"^(?:local)?rule (\w+):", re.MULTILINE)
DONE = re.compile(r"rule (\w+): done \(cpu [\d.]+ s, wall [\d.]+ s, peak rss [\d.]+ MB[^)]*\)")


def results(workdir: Path) -> dict[str, object]:
    root = workdir / "results" / DATASET
    return {
        str(p.relative_to(root)): comparable(p.name, p.read_bytes())
        for p in sorted(root.rglob("*"))
        if p.is_file()
        and p.relative_to(root).parts[0] not in NOT_COMPARED
        and not p.name.endswith((".duckdb", ".duckdb.wal"))
    }


def run(tmp_path: Path, name: str, sample: Path, mode: str) -> tuple[Path, str]:
    work = prepare_workdir(tmp_path / name)
    # small_config_args ends with --config KEY=VALUE...: one more item joins that list
    proc = snakemake(work, *small_config_args(sample), f"chain={{'mode': '{mode}'}}")
    return work, proc.stdout + proc.stderr


@pytest.mark.slow  # the whole pipeline through Snakemake, twice
def test_chain_writes_the_files_of_one_job_per_stage(
    tmp_path: Path, real_sample_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the legacy summary's Run ID and Date are the clock's unless this is set
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1753547653")
    staged, staged_out = run(tmp_path, "staged", real_sample_csv, "never")
    chained, chained_out = run(tmp_path, "chained", real_sample_csv, "always")
    assert "chain" not in JOB.findall(staged_out) and "optimize" in JOB.findall(staged_out)
    # ingest stays a job of its own (its staging keeps the last good matrix)
    assert set(JOB.findall(chained_out)) <= {"chain", "all", "ingest", "publish_ingest"}

    a, b = results(staged), results(chained)
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []

    # every stage still has its log, closing line and benchmark file
    root = chained / "results" / DATASET
    for rule in ("ingest", "load_db", "prepare", "optimize", "select", "store_results", "report"):
        assert DONE.search((root / "logs" / f"{rule}.log").read_text()), rule
        assert (root / "benchmarks" / f"{rule}.tsv").read_text().startswith("s\th:m:s\t")


@pytest.mark.parametrize(
    ("chain", "expected"),
    [
        ("{mode: auto}", "chain"),  # 500 strategies <= 5000
        ("{mode: auto, max_strategies: 499}", "ingest"),
        ("{mode: never}", "ingest"),
        ("{mode: always}", "chain"),
    ],
)
def test_auto_chains_small_inputs_only(
    tmp_path: Path, real_sample_csv: Path, chain: str, expected: str
) -> None:
    work = prepare_workdir(tmp_path)
    overlay = tmp_path / "chain.yaml"  # a file: --config leaves nested numbers as text
    overlay.write_text(f"chain: {chain}\n")
    args = small_config_args(real_sample_csv)
    at = args.index("--config")
    args = [*args[:at], str(overlay), *args[at:]]  # after --configfile's own file
    proc = snakemake(work, "-n", *args)
    jobs = JOB.findall(proc.stdout)
    assert expected in jobs
    assert ("chain" in jobs) == (expected == "chain")


def test_a_chained_stage_is_imported_inside_its_own_figures() -> None:
    """The stage module loads when the stage runs (inside run_rule's clock), not when the
    chain names it; a profiled stage's child gets it by reference."""
    import subprocess
    import sys

    code = (
        "import pickle, sys\n"
        "from stratopt.runtime.chain import ChainedStage\n"
        "stage = pickle.loads(pickle.dumps(ChainedStage('correlation_summary')))\n"
        "assert 'stratopt.stages.correlation_summary' not in sys.modules\n"
        "try:\n"
        "    stage(None)\n"
        "except AttributeError:\n"
        "    pass\n"
        "assert 'stratopt.stages.correlation_summary' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("validation", [True, False])
def test_the_plan_keeps_each_name_on_its_files_around_an_unpacked_function(
    validation: bool,
) -> None:
    """select's inputs start with an unpacked function that adds validation.json only
    when validation runs: the names after it must follow their files either way."""
    from snakemake.iocontainers import Namedlist

    from stratopt.runtime.chain_plan import plain_named

    def validation_input(wildcards: object) -> dict[str, str]:
        return {"validation": "r/validation.json"} if validation else {}

    named = Namedlist([validation_input, "r/prepared.parquet", "r/runs/ga.json", "r/runs/rs.json"])
    named._set_name("matrix", 1)
    named._set_name("runs", 2, end=4)
    plan = plain_named(named, {})
    first = 1 if validation else 0
    items, names = plan["items"], plan["names"]
    assert items[names["matrix"]] == "r/prepared.parquet"
    assert items[names["runs"][0] : names["runs"][1]] == ["r/runs/ga.json", "r/runs/rs.json"]
    assert ("validation" in names) == validation
    assert names["matrix"] == first and len(items) == 3 + first


@pytest.mark.slow  # the whole pipeline through Snakemake
def test_a_chained_run_without_validation_selects_from_the_runs(
    tmp_path: Path, real_sample_csv: Path
) -> None:
    """Validation off: select's inputs are one fewer, and the chain still hands it the
    prepared matrix and the runs by name (it once handed it a run as the matrix)."""
    work = prepare_workdir(tmp_path)
    overlay = tmp_path / "off.yaml"
    overlay.write_text("validation: {enabled: false}\nchain: {mode: always}\n")
    args = small_config_args(real_sample_csv)
    at = args.index("--config")
    args = [*args[:at], str(overlay), *args[at:]]
    proc = snakemake(work, *args)
    assert "chain" in JOB.findall(proc.stdout + proc.stderr)
    root = work / "results" / DATASET
    assert DONE.search((root / "logs" / "select.log").read_text())
    assert not (root / "validation.json").exists()
    assert (root / "summary.json").is_file() and (root / "report.html").is_file()
