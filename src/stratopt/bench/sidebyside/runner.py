"""Run one workload: baseline and tuned pipeline alternately, then the equivalence checks.

This is the parent process: it only plans, starts children and writes small
JSON. Every stage runs in its own child (stratopt.bench.timing), so each
peak resident set is that stage's own; the parent's peak is recorded as the
floor under them.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stratopt import contracts
from stratopt.bench.sidebyside import document
from stratopt.bench.sidebyside.workloads import Workload, twin_csv
from stratopt.bench.timing import StageSample, parent_peak_mb, run_command, run_stage
from stratopt.errors import ConfigError, InputError
from stratopt.runtime.atomic import write_json, write_text

Plan = list[tuple[str, str, dict[str, Any]]]  # (stage, "module:function", kwargs)
#: The wheel's OpenBLAS (0.3.31, numpy's small GEMM buffer) segfaults in its
#: multi-threaded dgemm at N = 25,544 (np.cov of 82 x 25,544; single-threaded it
#: runs): the dense baseline stages get one BLAS thread (docs/benchmark.md).
DENSE_ENV = {"OPENBLAS_NUM_THREADS": "1"}
DENSE_STAGES = ("correlation", "search")
Say = Callable[[str], None]


# ---------------------------------------------------------------- input


def resolve_input(workload: Workload, given: str | Path | None, say: Say) -> Path:
    """--input, else the workload's source; the twin is generated (untimed) when not cached."""
    if given is not None:
        path = Path(given)
    elif workload.input["source"] == "synthetic":
        path = twin_csv(workload.input, workload.config)
        if not path.exists():
            ref = workload.input.get(
                "reference_data", workload.config["input"].get("reference_data")
            )
            n = int(
                workload.input.get("synth_strategies", workload.config["input"]["synth_strategies"])
            )
            seed = int(workload.input.get("synth_seed", workload.config["input"]["synth_seed"]))
            say(f"generating the twin ({n} strategies, seed {seed}) -> {path} (not timed)")
            run_stage(
                "stratopt.synth:synth",
                {"reference_data": str(ref), "out": str(path), "seed": seed, "n_strategies": n},
            )
    else:
        path = Path(workload.input["source"])
    if not path.is_file():
        raise InputError(path, "benchmark input not found (give --input FILE)")
    return path.resolve()


def input_shape(path: Path) -> tuple[int, int]:
    """(strategies, days) from the header and the line count; reading it warms the page cache."""
    with path.open("rb") as fh:
        header = fh.readline().decode("utf-8-sig", errors="replace").rstrip("\r\n").split(",")
        rows = sum(1 for line in fh if line.strip())
    leading = sum(1 for c in header if c.strip() in ("Date", "Zone", "Day"))
    return len(header) - leading, rows


def check_memory(strategies: int, say: Say) -> None:
    """The dense correlation needs about 2 x 8 N^2 bytes at once (corrcoef, then nan_to_num)."""
    import psutil

    need = 2 * 8 * strategies**2
    avail = psutil.virtual_memory().available
    say(
        f"baseline dense correlation: about {need / 1e9:.1f} GB at its peak; {avail / 1e9:.1f} GB available"
    )
    if need > 0.9 * avail:
        raise ConfigError(
            f"the built-in baseline needs about {need / 1e9:.1f} GB for the dense correlation "
            f"matrix of {strategies} strategies, only {avail / 1e9:.1f} GB are available: "
            "free memory, use a smaller input or an external baseline"
        )


# ---------------------------------------------------------------- plans


def baseline_plan(w: Workload, source: Path, work: Path) -> Plan:
    base = "stratopt.bench.sidebyside.baseline"
    wk = str(work)
    plan: Plan = [
        ("load", f"{base}:load", {"input": str(source), "work": wk}),
        ("metrics+ULTA", f"{base}:metrics_ulta", {"work": wk, "ulta": bool(w.config["ulta"])}),
        ("correlation", f"{base}:correlation", {"work": wk}),
        (
            "search",
            f"{base}:search",
            {"work": wk, "config": w.config, "sizes": w.baseline_search_sizes()},
        ),
        ("select/report", f"{base}:select_report", {"work": wk, "config": w.config}),
    ]
    return plan


def tuned_plan(w: Workload, source: Path, work: Path) -> Plan:
    base = "stratopt.bench.sidebyside.tuned"
    wk = str(work)
    plan: Plan = [
        ("load", f"{base}:load", {"input": str(source), "work": wk}),
        ("metrics+ULTA", f"{base}:metrics_ulta", {"work": wk, "config": w.config}),
    ]
    if w.config.get("correlation", {}).get("enabled", True):
        plan.append(("correlation", f"{base}:correlation", {"work": wk, "config": w.config}))
    plan += [
        ("search", f"{base}:search", {"work": wk, "config": w.config}),
        ("select/report", f"{base}:select_report", {"work": wk, "config": w.config}),
    ]
    return plan


def external_argv(w: Workload, source: Path, work: Path) -> tuple[list[str], str]:
    """The external command with {input}, {work} and {workload_dir} filled in, and its cwd."""
    assert w.external is not None
    fill = {"input": str(source), "work": str(work), "workload_dir": str(w.path.parent)}
    argv = [part.format(**fill) for part in w.external.command]
    cwd = Path(w.external.cwd.format(**fill)) if w.external.cwd else w.path.parent
    if not cwd.is_absolute():
        cwd = w.path.parent / cwd
    return argv, str(cwd)


def _fresh(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def run_plan(side: str, rep: int, plan: Plan, work: Path, say: Say) -> dict[str, dict[str, Any]]:
    """One repetition of one side: every stage in its own child, in order, in a fresh folder."""
    _fresh(work)
    out: dict[str, dict[str, Any]] = {}
    for stage, target, kwargs in plan:
        env = DENSE_ENV if side == "baseline" and stage in DENSE_STAGES else None
        sample = run_stage(target, kwargs, env=env)
        out[stage] = sample.to_dict()
        say(_line(side, rep, stage, sample))
    return out


def _line(side: str, rep: int, stage: str, s: StageSample) -> str:
    setup = f" (+{s.setup['wall_s']:.2f} s untimed set-up)" if s.setup else ""
    return (
        f"  {side:<8} run {rep + 1} {stage:<14} wall {s.wall_s:9.3f} s  cpu {s.cpu_s:9.3f} s  "
        f"peak {s.peak_rss_mb:8.1f} MB{setup}"
    )


# ---------------------------------------------------------------- extrapolation


def extrapolate(w: Workload, reps: list[dict[str, dict[str, Any]]]) -> dict[str, Any] | None:
    """Scale the baseline's search and select from the sizes it ran to all the workload's sizes.

    Search: a polynomial (degree <= 2: the pair loop is O(n^2)) fitted to the
    seconds per size of each run, summed over every size, over the seconds of
    the sizes run. Select: linear in the number of sizes.
    """
    import numpy as np

    ran, every = w.baseline_search_sizes(), w.sizes
    if ran == every:
        return None
    factors = []
    for rep in reps:
        search = rep.get("search")
        if not search:
            continue
        secs = search["result"]["size_seconds"]
        n = np.array([int(k) for k in secs], dtype=float)
        s = np.array(list(secs.values()), dtype=float)
        coef = np.polyfit(n, s, min(2, len(n) - 1))
        predicted = np.maximum(np.polyval(coef, np.array(every, dtype=float)), 0.0)
        factor = float(predicted.sum() / s.sum())
        factors.append(factor)
        _scale(search, factor)
        if "select/report" in rep:
            _scale(rep["select/report"], len(every) / len(ran))
    return {
        "sizes_run": ran,
        "sizes_total": len(every),
        "search_factors": factors,
        "select_factor": len(every) / len(ran),
        "method": "search: polynomial of degree <= 2 in the size fitted to the seconds per size run, "
        "summed over all sizes; select/report: linear in the number of sizes; "
        "peak memory is not scaled (it does not grow with the number of sizes)",
    }


def _scale(sample: dict[str, Any], factor: float) -> None:
    sample["measured_wall_s"] = sample["wall_s"]
    sample["measured_cpu_s"] = sample["cpu_s"]
    sample["wall_s"] *= factor
    sample["cpu_s"] *= factor
    sample["extrapolated"] = True


# ---------------------------------------------------------------- the whole run


def run_bench(
    w: Workload,
    out_dir: str | Path,
    *,
    input_path: str | Path | None = None,
    repeats: int | None = None,
    keep_work: bool = False,
    snakemake_cores: int | None = None,
    say: Say = print,
) -> dict[str, Any]:
    """Run the workload and write out_dir/bench.json and out_dir/bench.md; returns the document."""
    out = Path(out_dir)
    work = out / "bench-work"
    source = resolve_input(w, input_path, say)
    strategies, days = input_shape(source)
    tuned_reps = repeats or w.tuned_repeats
    base_reps = min(repeats or w.baseline_repeats, w.baseline_repeats)
    notes: list[str] = []
    if base_reps < tuned_reps:
        why = (
            f"the workload caps it at baseline.repeats = {w.baseline_repeats}: it takes minutes"
            if base_reps == w.baseline_repeats
            else "as asked (--repeats)"
        )
        notes.append(
            f"the baseline ran {base_reps} time(s), the tuned pipeline {tuned_reps} ({why})"
        )
    elif base_reps < 3:
        notes.append(f"both sides ran {base_reps} time(s) only, as asked (--repeats)")
    if w.baseline_kind == "reference" and w.baseline_search_sizes() != w.sizes:
        ran = w.baseline_search_sizes()
        notes.append(
            f"the baseline searched {len(ran)} of the {len(w.sizes)} sizes ({', '.join(map(str, ran))}); "
            "its search and select/report figures are extrapolated to all sizes"
        )
    for n in notes:
        say(f"NOTE: {n}")
    if w.baseline_kind == "reference":
        check_memory(strategies, say)

    load_start = os.getloadavg()
    started = time.perf_counter()
    base_runs: list[dict[str, dict[str, Any]]] = []
    base_totals: list[dict[str, Any]] = []
    tuned_runs: list[dict[str, dict[str, Any]]] = []
    say(f"workload {w.name}: {strategies} strategies x {days} days from {source}")
    for rep in range(max(base_reps, tuned_reps)):
        if rep < base_reps:
            if w.baseline_kind == "reference":
                base_runs.append(
                    run_plan(
                        "baseline",
                        rep,
                        baseline_plan(w, source, work / "baseline"),
                        work / "baseline",
                        say,
                    )
                )
            else:
                _fresh(work / "baseline")
                argv, cwd = external_argv(w, source, work / "baseline")
                sample = run_command(argv, cwd=cwd, log_path=str(work / "external.log"))
                base_totals.append(sample.to_dict())
                say(_line("baseline", rep, "external", sample))
        if rep < tuned_reps:
            tuned_runs.append(
                run_plan("tuned", rep, tuned_plan(w, source, work / "tuned"), work / "tuned", say)
            )
    extrapolation = extrapolate(w, base_runs) if w.baseline_kind == "reference" else None

    say("equivalence checks ...")
    equivalence = _equivalence(w, source, work)
    stages, total = document.stage_table(base_runs, tuned_runs, base_totals or None)
    targets = document.target_checks(w.targets, strategies, stages, total)
    lean = document.total_without(base_runs, tuned_runs, "correlation", base_totals or None)
    pipeline = None
    if snakemake_cores:
        from stratopt.bench.sidebyside.snakemake_run import run_snakemake

        pipeline = run_snakemake(w, source, out, tuned_reps, snakemake_cores, say)
        pipeline["summary"] = document.side_summary(pipeline["samples"])
        targets.update(document.pipeline_targets(w.targets, strategies, pipeline))
    load_end = os.getloadavg()
    spread = _spread(total["tuned"])
    notes.append(
        f"machine load average {load_start[0]:.2f} at the start, {load_end[0]:.2f} at the end "
        f"({os.cpu_count()} CPUs); tuned total wall spread (max - min) / median = {spread:.0%}; "
        "CPU time is the steadier figure on a shared machine"
    )
    notes.append(
        "every peak RSS includes the interpreter and its imports; measured processes are started "
        f"by a small launcher, so the benchmark's own process ({parent_peak_mb():.0f} MB) does not "
        "leak into their figures"
    )
    doc = {
        "schema": document.SCHEMA,
        "workload": w.name,
        "workload_file": str(w.path),
        "description": w.description,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "input": {"path": str(source), "bytes": source.stat().st_size},
        "strategies": strategies,
        "days": days,
        "settings": _settings(w),
        "baseline": {"kind": w.baseline_kind, "label": _baseline_label(w), "repeats": base_reps},
        "tuned": {
            "label": "stratopt pipeline stages (ingest, DuckDB prepare, correlation shards, "
            "optimize, select + report)",
            "repeats": tuned_reps,
        },
        "stages": stages,
        "total": total,
        "total_without_correlation": lean,
        "speedup": total["ratio"]["wall_s"],
        "cpu_speedup": total["ratio"]["cpu_s"],
        "strategies_per_s": targets["strategies_per_s"]["measured"],
        "load_s": targets["load_s"]["measured"],
        "total_s": targets["total_s"]["measured"],
        "max_stage_peak_mb": targets["stage_peak_mb"]["measured"],
        "equivalence_passed": equivalence.get("passed"),
        "extrapolated": extrapolation is not None,
        "extrapolation": extrapolation,
        "targets": targets,
        "equivalence": equivalence,
        "snakemake": pipeline,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_start": list(load_start),
            "load_average_end": list(load_end),
            "parent_peak_rss_mb": parent_peak_mb(),
        },
        "elapsed_s": time.perf_counter() - started,
        "notes": notes,
    }
    write_json(contracts.BENCH.path(out), contracts.BENCH.checked(doc))
    table = document.format_markdown(doc)
    write_text(contracts.BENCH_MD.path(out), table)
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    say("")
    say(table)
    return doc


def _equivalence(w: Workload, source: Path, work: Path) -> dict[str, Any]:
    kwargs: dict[str, Any]
    if w.baseline_kind == "reference":
        kwargs = {
            "baseline": str(work / "baseline"),
            "tuned": str(work / "tuned"),
            "config": w.config,
        }
        return (
            run_stage("stratopt.bench.sidebyside.equivalence:check_reference", kwargs).result or {}
        )
    assert w.external is not None
    argv, cwd = external_argv(w, source, work / "baseline")
    fill = {
        "input": str(source),
        "work": str(work / "baseline"),
        "workload_dir": str(w.path.parent),
    }

    def where(p: str | None) -> str | None:
        return None if p is None else str(Path(cwd) / p.format(**fill))

    metrics, portfolios = where(w.external.strategy_metrics), where(w.external.portfolios_dir)
    if metrics is None and portfolios is None:
        return {
            "ran": False,
            "passed": None,
            "checks": [],
            "why": "the workload names no outputs of the external command (baseline.outputs)",
        }
    kwargs = {
        "metrics_csv": metrics,
        "portfolios_dir": portfolios,
        "tuned": str(work / "tuned"),
        "config": w.config,
    }
    return run_stage("stratopt.bench.sidebyside.equivalence:check_external", kwargs).result or {}


def _spread(summary: dict[str, Any] | None) -> float:
    if not summary or not summary["wall_s"]:
        return 0.0
    return (summary["wall_max_s"] - summary["wall_min_s"]) / summary["wall_s"]


def _settings(w: Workload) -> dict[str, Any]:
    opt = w.config["optimize"]
    return {
        "metric": w.config["metric"],
        "ulta": w.config["ulta"],
        "drawdown_threshold": w.config["drawdown_threshold"],
        "preset": opt["preset"],
        "algorithms": list(opt["algorithms"]),
        "sizes": [opt["min_size"], opt["max_size"]],
        "generations": opt["generations"],
        "population": opt["population"],
        "mutation_rate": opt["mutation_rate"],
        "seed": opt["seed"],
        "workers": opt["workers"],
        "correlation_shards": w.config.get("correlation", {}).get("shards"),
        "database": w.config.get("database", {}).get("backend"),
    }


def _baseline_label(w: Workload) -> str:
    if w.baseline_kind == "external":
        assert w.external is not None
        return "external legacy command: " + " ".join(w.external.command)
    return (
        "built-in reference engine, legacy presets (pandas CSV load, reference metrics + ULTA, "
        "dense N x N correlation, legacy search loops over the plain reference fitness)"
    )
