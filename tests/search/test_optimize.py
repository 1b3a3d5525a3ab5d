"""The optimize and select stages: determinism, resume after a kill, outputs, Snakemake."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from search_support import results_without_timing, write_prepared
from stratopt.errors import ConfigError
from stratopt.legacy.layout import read_text
from stratopt.search.checkpoints import checkpoint_path
from stratopt.search.optimize import optimize
from stratopt.search.settings import OptimizeSettings, size_seed
from stratopt.selection.select import select

ALL = ["ga", "pso", "sa", "de", "aco", "hc", "bo", "rs"]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory, real_sample_csv: Path) -> Path:
    return write_prepared(real_sample_csv, tmp_path_factory.mktemp("prep") / "prepared.parquet")


def small(**kw: object) -> OptimizeSettings:
    base = {"min_size": 5, "max_size": 8, "generations": 10, "population": 10}
    return OptimizeSettings(**{**base, **kw})


@pytest.mark.parametrize("preset", ["default", "legacy"])
def test_results_identical_whatever_the_workers_and_pool(
    prepared: Path, tmp_path: Path, preset: str
) -> None:
    runs = {}
    for label, workers, pool in (
        ("one", 1, "process"),
        ("two", 2, "process"),
        ("threads", 2, "thread"),
    ):
        paths = optimize(
            prepared, ALL, small(preset=preset), tmp_path / label, workers=workers, pool=pool
        )
        runs[label] = {a: results_without_timing(p) for a, p in paths.items()}
    assert runs["one"] == runs["two"] == runs["threads"]
    ga = runs["one"]["ga"]
    assert [r["size"] for r in ga["sizes"]] == [5, 6, 7, 8]
    assert all(r["evaluations"] == 100 for r in ga["sizes"])


def test_one_algorithm_alone_gives_the_same_result_as_in_company(
    prepared: Path, tmp_path: Path
) -> None:
    """Job order and grouping do not matter: the seed is per (seed, algorithm, size)."""
    together = optimize(prepared, ALL, small(), tmp_path / "all", workers=2)
    alone = optimize(prepared, ["sa"], small(), tmp_path / "sa", workers=1)
    assert results_without_timing(together["sa"]) == results_without_timing(alone["sa"])


def test_seed_streams_differ_per_unit() -> None:
    a = size_seed(42, "ga", 35).generate_state(4)
    assert not np.array_equal(a, size_seed(42, "ga", 36).generate_state(4))
    assert not np.array_equal(a, size_seed(42, "sa", 35).generate_state(4))
    assert not np.array_equal(a, size_seed(43, "ga", 35).generate_state(4))


def test_sizes_larger_than_n_are_skipped(tmp_path: Path) -> None:
    from stratopt.data.matrix import Matrix, write_matrix

    rng = np.random.default_rng(0)
    m = Matrix(
        dates=np.arange("2024-01-01", "2024-01-21", dtype="datetime64[D]"),
        days=[""] * 20,
        names=[f"s{i}" for i in range(12)],
        values=rng.normal(size=(20, 12)),
    )
    write_matrix(m, tmp_path / "m.parquet")
    paths = optimize(
        tmp_path / "m.parquet", ["rs"], small(min_size=10, max_size=14), tmp_path / "runs"
    )
    doc = json.loads(paths["rs"].read_text())
    assert [r["size"] for r in doc["sizes"]] == [10, 11, 12]
    assert doc["skipped_sizes"] == [13, 14]


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ConfigError):
        OptimizeSettings(min_size=10, max_size=5)
    with pytest.raises(ConfigError):
        OptimizeSettings(preset="fast")
    with pytest.raises(ConfigError):
        OptimizeSettings(seed=-1)


def test_checkpoints_from_other_settings_are_not_reused(prepared: Path, tmp_path: Path) -> None:
    optimize(prepared, ["sa"], small(), tmp_path, workers=1)
    stamp = checkpoint_path(tmp_path, "sa", 5).stat().st_mtime_ns
    first = results_without_timing(tmp_path / "sa.json")
    optimize(prepared, ["sa"], small(), tmp_path, workers=1)  # same settings: all reused
    assert checkpoint_path(tmp_path, "sa", 5).stat().st_mtime_ns == stamp
    assert results_without_timing(tmp_path / "sa.json") == first
    optimize(prepared, ["sa"], small(seed=7), tmp_path, workers=1)  # other seed: searched again
    assert checkpoint_path(tmp_path, "sa", 5).stat().st_mtime_ns != stamp
    assert results_without_timing(tmp_path / "sa.json") != first


def _cli(prepared: Path, runs: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "stratopt", "optimize", str(prepared), str(runs),
        "--algorithms", "ga,sa", "--preset", "legacy", "--min-size", "20", "--max-size", "45",
        "--generations", "60", "--population", "30", "--workers", "1", "--no-progress", *extra,
    ]  # fmt: skip


@pytest.mark.slow  # a real optimize run, killed and resumed
def test_resume_after_a_killed_run(prepared: Path, tmp_path: Path) -> None:
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        _cli(prepared, killed),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while len(list(killed.glob("*/size_*.json"))) < 4:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline, "no checkpoints appeared"
            time.sleep(0.02)  # polling the file system, not standing in for work
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    checkpointed = len(list(killed.glob("*/size_*.json")))
    assert 4 <= checkpointed < 52, "killed part-way"
    assert not (killed / "ga.json").exists() and not (killed / "sa.json").exists()

    resumed = subprocess.run(_cli(prepared, killed), capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr and f"{checkpointed} of 52" in resumed.stderr

    clean = tmp_path / "clean"
    subprocess.run(_cli(prepared, clean), check=True, capture_output=True, timeout=300)
    for name in ("ga", "sa"):
        assert results_without_timing(killed / f"{name}.json") == results_without_timing(
            clean / f"{name}.json"
        )


def test_default_preset_gives_every_algorithm_the_same_budget(
    prepared: Path, tmp_path: Path
) -> None:
    config = {"optimize": {"min_size": 5, "max_size": 6, "generations": 10, "population": 12}}
    fair = OptimizeSettings.from_config(config)
    assert fair.preset == "default" and fair.budget == 10 * 12  # G x P
    legacy = OptimizeSettings.from_config({"optimize": {**config["optimize"], "preset": "legacy"}})
    assert legacy.budget is None  # each algorithm's legacy count
    fixed = OptimizeSettings.from_config({"optimize": {**config["optimize"], "budget": 77}})
    assert fixed.budget == 77
    runs = optimize(prepared, ALL, fair, tmp_path / "fair", workers=1)
    for name in ALL:
        doc = json.loads(runs[name].read_text())
        for rec in doc["sizes"]:
            assert rec["evaluations"] == 120, (name, rec["evaluations"])
            curve = rec["convergence"]  # [evaluations, best so far], a step curve
            assert curve[-1] == [120, rec["fitness"]]
            assert all(
                a[0] < b[0] and a[1] < b[1] for a, b in zip(curve, curve[1:-1], strict=False)
            )
    counts = {
        name: json.loads(path.read_text())["sizes"][0]["evaluations"]
        for name, path in optimize(prepared, ALL, legacy, tmp_path / "legacy", workers=1).items()
    }
    # the legacy presets keep the legacy's own, unequal counts (G = 10, P = 12)
    assert counts == {
        "ga": 120, "pso": 120, "sa": 1001, "de": 132, "aco": 10, "hc": 201, "bo": 10, "rs": 120,
    }  # fmt: skip


def test_cli_shows_a_progress_bar(prepared: Path, tmp_path: Path) -> None:
    cmd = _cli(prepared, tmp_path)[:-1]  # progress on
    cmd[cmd.index("45")] = "22"
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "optimize: 100%" in proc.stderr and "6/6" in proc.stderr


# ------------------------------------------------------------------ select


@pytest.fixture(scope="module")
def runs(prepared: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("runs")
    return optimize(prepared, ALL, small(preset="legacy"), out, workers=2)


def test_select_picks_the_best_per_size_and_writes_every_output(
    prepared: Path, runs: dict[str, Path], tmp_path: Path
) -> None:
    summary = select(
        prepared,
        [runs[a] for a in ALL],
        tmp_path / "portfolios.parquet",
        tmp_path / "summary.json",
        tmp_path / "portfolios",
    )
    docs = {a: json.loads(p.read_text()) for a, p in runs.items()}
    for entry in summary["sizes"]:
        size = entry["size"]
        fits = {
            a: next(r["fitness"] for r in d["sizes"] if r["size"] == size) for a, d in docs.items()
        }
        assert entry["fitness"] == max(fits.values())
        assert fits[entry["algorithm"]] == entry["fitness"]
        assert entry["fitness_by_algorithm"] == fits
    best = summary["best_overall"]
    # without validation the best overall size is the largest guarded ratio, not fitness
    assert summary["best_overall_rule"]["rule"] == "guarded ratio"
    assert best["guarded_fitness"] == max(e["guarded_fitness"] for e in summary["sizes"])
    assert sum(summary["wins"].values()) == 4
    assert 45 < summary["periods_per_year"] < 60  # weekly sessions, not 252

    table = pq.read_table(tmp_path / "portfolios.parquet").to_pandas()
    assert list(table["size"]) == [5, 6, 7, 8]
    assert table["best_overall"].sum() == 1
    assert {"total_roi", "sharpe_ratio", "annualized_return", "names", "indices"} <= set(
        table.columns
    )

    folder = tmp_path / "portfolios"
    doc = read_text(folder / "best_portfolio_size6.txt")  # the legacy layout (test_legacy_layout)
    six = next(e for e in summary["sizes"] if e["size"] == 6)
    assert (doc.size, doc.method) == (6, six["algorithm"].upper())
    assert doc.fitness == six["fitness"]  # repr: every digit
    assert doc.strategies == [f"sensex_real_sample_500_{n}" for n in six["names"]]
    # the legacy text annualises with 252 periods, the machine-readable outputs with the dates'
    legacy_ann = doc.metrics["annualized_return"]
    own_ann = table.loc[table["size"] == 6, "annualized_return"].item()
    assert legacy_ann == pytest.approx(own_ann * 252 / summary["periods_per_year"], rel=1e-12)
    overall = read_text(folder / "optimization_summary.txt")
    assert overall.sections["Best Overall Portfolio"]["Size"] == str(best["size"])
    assert overall.sections["Optimization Parameters"]["Apply ULTA Logic"] == "True"
    for size in (5, 8):
        for stem in ("equity_curve", "drawdown"):
            assert (folder / f"{stem}_size{size}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_select_refuses_a_run_of_another_matrix(
    prepared: Path, runs: dict[str, Path], tmp_path: Path
) -> None:
    from stratopt.errors import InputError

    doc = json.loads(runs["ga"].read_text())
    doc["n_strategies"] = 7
    bad = tmp_path / "ga.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="7 strategies"):
        select(
            prepared,
            [bad],
            tmp_path / "p.parquet",
            tmp_path / "s.json",
            tmp_path / "d",
            pictures=False,
        )


# ------------------------------------------------------------------ Snakemake


@pytest.mark.slow  # the optimize and select jobs through Snakemake
def test_snakemake_runs_optimize_and_select(prepared: Path, tmp_path: Path) -> None:
    shutil.copytree(REPO / "config", tmp_path / "config")
    results = tmp_path / "results" / "small"
    results.mkdir(parents=True)
    shutil.copy(prepared, results / "prepared.parquet")
    extra = tmp_path / "search.yaml"
    extra.write_text(
        "dataset: small\n"
        "optimize: {algorithms: [sa, rs], min_size: 5, max_size: 7, generations: 10,"
        " population: 10, workers: 2}\n"
        "validation: {enabled: false}\n"  # validate reads matrix.parquet, not made here
    )
    cmd = [
        sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
        "--directory", str(tmp_path), "--cores", "2", "--configfile", "config/config.yaml",
        str(extra), "--", "results/small/summary.json",
    ]  # fmt: skip
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    summary = json.loads((results / "summary.json").read_text())
    assert [e["size"] for e in summary["sizes"]] == [5, 6, 7]
    assert (results / "portfolios" / "best_portfolio_size7.txt").exists()
    log = (results / "logs" / "optimize.log").read_text()  # one job for both algorithms
    assert log.count("sa size ") == 3 and log.count("rs size ") == 3  # a line per size
    assert (results / "benchmarks" / "optimize.tsv").exists()
    assert (results / "runs" / "sa" / "size_5.json").exists()
