"""Fixed costs: what a job or a `snakemake` call pays before any work (docs/performance.md)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from import_support import packages_after, packages_imported
from stratopt import registry
from stratopt.bench.pipeline import parse_jobs
from stratopt.engine import kernels
from stratopt.engine.evaluator import Evaluator
from stratopt.runtime.context import NamedList, RuleContext
from stratopt.runtime.rule import run_rule
from stratopt.runtime.slurm_plugins import ENV_VAR, plugin_dir, plugin_problem, slurm_env


def fake_scontrol(folder: Path) -> Path:
    """An `scontrol` first on PATH that leaves a mark when anything runs it."""
    mark = folder / "scontrol-ran"
    script = folder / "scontrol"
    script.write_text(f"#!/bin/sh\ntouch {mark}\nexit 1\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return mark


def test_snakemake_starts_without_asking_slurm(tmp_path: Path) -> None:
    """The SLURM executor plugin is not on the default import path: importing
    Snakemake's command line runs no SLURM client tool (it waited ~9 s for a
    controller when the plugin was installed in the environment)."""
    mark = fake_scontrol(tmp_path)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    env.pop("PYTHONPATH", None)
    subprocess.run([sys.executable, "-c", "import snakemake.cli"], env=env, check=True)
    assert not mark.exists()
    if plugin_problem() is None:  # installed beside the environment: used on request only
        subprocess.run(
            [sys.executable, "-c", "import snakemake.cli"], env=slurm_env(env), check=True
        )
        assert mark.exists()


def test_slurm_env_puts_the_plugin_folder_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "plugins"))
    env = slurm_env({"PYTHONPATH": "/somewhere/else"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(tmp_path / "plugins"), "/somewhere/else"]
    assert plugin_dir() == tmp_path / "plugins"
    assert "make slurm-plugins" in (plugin_problem() or "")


def test_plugin_lookups_reuse_one_scan(monkeypatch: pytest.MonkeyPatch) -> None:
    scans = []
    real = registry.available
    monkeypatch.setattr(registry, "available", lambda kind: scans.append(kind) or real(kind))
    monkeypatch.setattr(registry, "_SCANS", {})
    for _ in range(5):
        registry.load("algorithms", "ga")
        registry.load("algorithms", "SA")
    assert scans == ["algorithms"]
    monkeypatch.syspath_prepend("/nonexistent-plugin-folder")  # a changed path: scan again
    registry.load("algorithms", "ga")
    assert scans == ["algorithms", "algorithms"]


def test_serial_and_parallel_kernels_have_their_own_cache_entries() -> None:
    """numba keys its cache by qualified name and bytecode, not by compile options."""
    names = {
        kernels.population_stats_serial.py_func.__qualname__,
        kernels.population_stats_parallel.py_func.__qualname__,
    }
    assert len(names) == 2


def test_evaluator_views_share_the_arrays_and_count_apart() -> None:
    values = np.random.default_rng(0).normal(size=(30, 400))
    base = Evaluator(values)
    view = base.view()
    assert view._rows is base._rows
    sets = np.random.default_rng(1).choice(400, size=(6, 5), replace=False)
    np.testing.assert_array_equal(view.evaluate(sets), base.evaluate(sets))
    view.evaluate(sets)
    assert (base.evaluations, view.evaluations) == (6, 12)


def test_a_jobs_closing_line_gives_its_cost(tmp_path: Path) -> None:
    """run_rule logs CPU, wall and peak memory; `stratopt bench pipeline` reads them back."""
    log = tmp_path / "logs" / "demo.log"
    ctx = RuleContext(rule="demo", log=NamedList([str(log)]))
    usage = run_rule(ctx, lambda smk: np.ones(1_000_000).sum(), chained=True)
    jobs = parse_jobs(log.parent)
    assert set(jobs) == {"demo"}
    assert jobs["demo"]["cpu_s"] == pytest.approx(usage.cpu_s, abs=0.01)
    assert jobs["demo"]["peak_mb"] > 0
    # resident at the end, apart: the process's own pages and the mapped files
    # (libraries), whose share follows the page cache and not the code
    if sys.platform == "linux":
        own = jobs["demo"]["anon_mb"]
        files = jobs["demo"]["file_mb"]
        assert own == round(usage.anon_mb) and files == round(usage.file_mb)
        assert own > 0 and files > 0 and own + files <= jobs["demo"]["peak_mb"] + 2


def test_a_closing_line_without_the_split_still_reads(tmp_path: Path) -> None:
    """Logs of earlier runs end without the resident split: NaN there, the rest read."""
    (tmp_path / "old.log").write_text(
        "x INFO stratopt.runtime.rule: rule old: done (cpu 0.37 s, wall 0.38 s, peak rss 151 MB)\n"
    )
    job = parse_jobs(tmp_path)["old"]
    assert (job["cpu_s"], job["wall_s"], job["peak_mb"]) == (0.37, 0.38, 151.0)
    assert np.isnan(job["anon_mb"]) and np.isnan(job["file_mb"])


def test_small_jobs_import_no_pandas_or_scipy() -> None:
    """store_results and correlation_summary need neither (each costs a job ~0.3 s of CPU)."""
    jobs = ["stratopt.stages.store_results", "stratopt.stages.correlation_summary"]
    assert packages_imported(jobs, ["pandas", "scipy", "matplotlib"]) == []


def test_ingest_load_and_prepare_import_no_pandas(real_sample_csv: Path, tmp_path: Path) -> None:
    """Reading the real CSV, writing matrix.parquet, loading it into DuckDB and preparing
    it use Arrow arrays built from and read from buffers (stratopt.data.arrow_columns) and
    plain columns (stratopt.data.columns): pa.array() and to_numpy() would import pandas,
    about 0.35-0.5 s of CPU and 35-45 MB in each of the ingest, load_db and prepare jobs."""
    code = (
        "from stratopt.data.ingest import ingest\n"
        "from stratopt.db.duckdb_backend import DuckDBDatabase\n"
        "from stratopt.db.load import load_db\n"
        f"out = {str(tmp_path)!r}\n"
        f"ingest({str(real_sample_csv)!r}, out + '/matrix.parquet', out + '/ingest.json')\n"
        "with DuckDBDatabase(out + '/db.duckdb') as db:\n"
        "    load_db(out + '/matrix.parquet', db, out + '/load.json')\n"
        "    from stratopt.db.prepare import PrepareOutputs, prepare\n"
        "    for compute in ('numpy', 'sql'):\n"
        "        prepare(db, {'database': {'compute': compute}}, PrepareOutputs.under(out))\n"
    )
    assert packages_after(code, ["pandas", "scipy", "matplotlib"]) == []
    assert (tmp_path / "load.json").exists() and (tmp_path / "prepare.json").exists()


def test_a_job_process_freezes_its_objects_before_it_exits(tmp_path: Path) -> None:
    """run_job (every rule script) collects the stage's garbage, then freezes what is
    left, so that the interpreter's exit does not scan numba's 100,000 objects (0.3-0.4 s
    a job); in a child process, since a frozen pytest process would never collect them."""
    log = tmp_path / "logs" / "demo.log"
    code = (
        "import gc, sys\n"
        "from stratopt.runtime.context import NamedList, RuleContext\n"
        "from stratopt.runtime.rule import run_job\n"
        f"ctx = RuleContext(rule='demo', log=NamedList([{str(log)!r}]))\n"
        "before = gc.get_freeze_count()\n"
        "run_job(ctx, lambda smk: [[] for _ in range(1000)])\n"
        "print(before, gc.get_freeze_count())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = map(int, done.stdout.split())
    assert before == 0 and after > 10_000  # the imports' objects at least
    assert parse_jobs(log.parent)["demo"]["cpu_s"] >= 0


def test_the_stratopt_command_readies_its_exit_too() -> None:
    from importlib.metadata import entry_points

    (command,) = [e for e in entry_points(group="console_scripts") if e.name == "stratopt"]
    assert command.value == "stratopt.cli:run"
