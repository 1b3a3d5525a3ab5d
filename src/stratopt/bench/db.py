"""`stratopt bench db`: the database stage on the production shape, SQL against NumPy.

Measures, each repetition in a fresh child process (benchmarks/timing.py):
the load_db stage (matrix.parquet -> DuckDB) and the prepare stage
(filter, metrics, ULTA, export) with the default paths, and, per
computation, the SQL path against the NumPy path (stratopt.engine.strategy_metrics,
stratopt.engine.ulta) on the same filtered data. Reports the child's whole wall
time (interpreter start and imports included), the stage's own time
(measured inside the child around the work only), and the child's peak RSS.
Says which path is faster for each computation and whether the pipeline's
default (stratopt.db.compute.FASTER) agrees with this run. Also times the
three database rules as the workflow runs them (each its own DuckDB file,
copied from its input's) against one file written in place; with --zones K
everything runs on a zone matrix of K zones in zone mode (docs/zones.md).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from stratopt import contracts

GOALS = {"load_s": 1.0, "prepare_s": 2.0, "peak_mb": 500.0}
SHAPE = (82, 25_544)


def production_matrix(seed: int = 20250726, reference_data: str | Path | None = None) -> Any:
    """The production-shaped twin (stratopt.synth) when it and its data are there, else a
    seeded 82 x 25,544 matrix with production-style names (heavy-tailed daily P&L)."""
    import numpy as np

    from stratopt.data.matrix import Matrix

    folder = Path(reference_data) if reference_data else _shared_data()
    try:
        from stratopt.synth import generate_twin
        from stratopt.synth.reference import load_reference

        if folder is not None and (folder / "sensex_strategy_metrics.csv").exists():
            twin = generate_twin(load_reference(folder), seed)
            return Matrix(
                dates=np.asarray(twin.dates, dtype="datetime64[D]"),
                days=list(twin.days),
                names=list(twin.names),
                values=np.ascontiguousarray(twin.values),
                labels=["twin"] * len(twin.names),
            )
    except ImportError:
        pass
    t, n = SHAPE
    rng = np.random.default_rng(seed)
    dates = np.datetime64("2024-01-04") + np.arange(t) * np.timedelta64(7, "D")
    names = [f"SENSEX {_window(i // 206)} {_rule(i % 206)}" for i in range(n)]
    values = rng.standard_t(4, size=(t, n)) * 400.0 + rng.normal(0, 60, size=(1, n))
    return Matrix(
        dates=dates,
        days=["Thursday"] * t,
        names=names,
        values=values,
        labels=["seeded"] * n,
    )


def _window(i: int) -> str:
    start = 915 + (i % 60) * 5
    return f"{start // 100:02d}{start % 100 % 60:02d}-{(start // 100 + 1 + i // 60):02d}30"


def _rule(j: int) -> str:
    sl = 7 + (j % 80)
    return f"SL{sl}%" if j < 80 else f"SL{sl}%TP{22 + 5 * (j % 10)}%"


def _shared_data() -> Path | None:
    here = Path(__file__).resolve().parents[3]
    folder = here.parent / "shared" / "data"
    return folder if folder.exists() else None


# ---------------------------------------------------------------- child targets


_CPU0: list[float] = [0.0]


def _record(out: str, seconds: float, **extra: Any) -> None:
    """The stage's own wall time and CPU time (all threads), since the last _start()."""
    cpu = time.process_time() - _CPU0[0]
    Path(out).write_text(json.dumps({"seconds": seconds, "cpu": cpu, **extra}), encoding="utf-8")


def _start() -> float:
    _CPU0[0] = time.process_time()
    return time.perf_counter()


def child_make_matrix(work: str, seed: int, out: str, zones: int = 0) -> None:
    """Build the matrix in a child: the parent must stay small, since every child
    it forks inherits its peak RSS in the figure os.wait4 reports. zones > 0: the
    same P&L split across that many zones (stratopt.synth.split_zones)."""
    from stratopt.data.matrix import write_matrix

    start = _start()
    matrix = production_matrix(seed)
    if zones:
        from stratopt.data.zone_matrix import write_zone_matrix
        from stratopt.synth import split_zones, zone_names

        parts = split_zones(matrix.values, zones, seed, matrix.n_strategies)
        write_zone_matrix(matrix, zone_names(zones), parts, contracts.MATRIX.path(work))
    else:
        write_matrix(matrix, contracts.MATRIX.path(work))
    _record(out, time.perf_counter() - start, shape=list(matrix.shape), data=matrix.labels[0])


def child_load(work: str, out: str) -> None:
    from stratopt.db.duckdb_backend import DuckDBDatabase
    from stratopt.db.load import load_db

    folder = Path(work)
    start = _start()
    with DuckDBDatabase(folder / "bench.duckdb") as db:
        load_db(contracts.MATRIX.path(folder), db, contracts.LOAD.path(folder))
    _record(out, time.perf_counter() - start)


def child_prepare(work: str, out: str, compute: str, zones: int = 0) -> None:
    from stratopt.db.duckdb_backend import DuckDBDatabase
    from stratopt.db.prepare import PrepareOutputs, prepare

    folder = Path(work)
    config = {"database": {"compute": compute}, "ulta": True, "zone": {"enabled": zones > 0}}
    start = _start()
    with DuckDBDatabase(folder / "bench.duckdb") as db:
        summary = prepare(db, config, PrepareOutputs.under(folder / f"prepare_{compute}"))
    _record(out, time.perf_counter() - start, paths=summary["paths"], parts=summary["seconds"])


def child_compute(work: str, out: str, computation: str, path: str) -> None:
    """One computation by one path, on the filtered data (setup not timed)."""
    from stratopt.db import compute as C
    from stratopt.db.duckdb_backend import DuckDBDatabase
    from stratopt.db.prepare import _filtered_matrix

    with DuckDBDatabase(Path(work) / "bench.duckdb") as db:
        matrix = _filtered_matrix(db, None, None)
        start = _start()
        if computation == "metrics":
            if path == "sql":
                C.metrics_sql(db, matrix.names)
            else:
                C.metrics_numpy(db, matrix)
        else:
            (C.ulta_sql if path == "sql" else C.ulta_numpy)(db, matrix)
        _record(out, time.perf_counter() - start)


def child_rule_chain(work: str, out: str, mode: str, zones: int = 0) -> None:
    """load_db -> prepare -> store_results as the rules run them ("files": each rule its
    own DuckDB file, copied from its input's: stratopt.db.rule_database) or in one file
    written in place ("one_file": what the rules did before, and the CLI still does)."""
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from stratopt.db.duckdb_backend import DuckDBDatabase
    from stratopt.db.load import load_db, store_results
    from stratopt.db.prepare import PrepareOutputs, prepare
    from stratopt.db.rule_database import rule_database

    base = Path(work)
    folder = base / f"chain_{mode}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    sizes = list(range(35, 101))
    ones = [1.0] * len(sizes)
    portfolios = pa.table(  # select's columns (stratopt.contracts.PORTFOLIOS), plain values
        {
            "size": pa.array(sizes, type=pa.int32()),
            "algorithm": ["sa"] * len(sizes),
            "fitness": ones,
            "best_overall": [n == sizes[0] for n in sizes],
            "guarded_fitness": ones,
            "flags": [""] * len(sizes),
            "evaluations": pa.array([100] * len(sizes), type=pa.int64()),
            "indices": pa.array([list(range(n)) for n in sizes], type=pa.list_(pa.int32())),
            "names": pa.array([[f"s{i}" for i in range(n)] for n in sizes]),
            **dict.fromkeys(contracts.PORTFOLIO_METRICS, ones),
        }
    ).replace_schema_metadata({b"stratopt": b"{}"})
    chosen, stored = contracts.PORTFOLIOS.path(folder), contracts.STORED.path(folder)
    pq.write_table(portfolios, chosen)
    config = {"ulta": True, "zone": {"enabled": zones > 0}}
    matrix, params = contracts.MATRIX.path(base), {"backend": "duckdb"}
    start = _start()
    if mode == "files":
        first, second, final = (
            contracts.LOAD_DB_FILE.path(folder),
            contracts.PREPARE_DB_FILE.path(folder),
            contracts.RESULTS_DB.path(folder),
        )
        with rule_database(params, first) as db:
            load_db(matrix, db, contracts.LOAD.path(folder))
        with rule_database(params, second, first) as db:
            prepare(db, config, PrepareOutputs.under(folder))
        with rule_database(params, final, second) as db:
            store_results(chosen, db, stored)
        files = [first, second, final]
    else:
        with DuckDBDatabase(contracts.RESULTS_DB.path(folder)) as db:
            load_db(matrix, db, contracts.LOAD.path(folder))
            prepare(db, config, PrepareOutputs.under(folder))
            store_results(chosen, db, stored)
        files = [contracts.RESULTS_DB.path(folder)]
    seconds = time.perf_counter() - start
    _record(out, seconds, megabytes=[round(f.stat().st_size / 1e6, 1) for f in files])


# ---------------------------------------------------------------- parent


def _measure(target: str, kwargs: dict, repeats: int, tmp: Path) -> dict[str, Any]:
    from stratopt.bench.timing import run_isolated, summarise

    samples, inner, cpu = [], [], []
    for i in range(repeats):
        out = tmp / f"{target.rsplit(':', 1)[1]}_{abs(hash(json.dumps(kwargs)))}_{i}.json"
        samples.append(run_isolated(target, {**kwargs, "out": str(out)}))
        record = json.loads(out.read_text(encoding="utf-8"))
        inner.append(record["seconds"])
        cpu.append(record["cpu"])
    s = summarise(target, samples)
    return {
        "stage_s": statistics.median(inner),
        "stage_cpu_s": statistics.median(cpu),
        "stage_runs_s": inner,
        "child_wall_s": s.wall_s,
        "peak_rss_mb": s.peak_rss_mb,
    }


def run(
    repeats: int = 5, seed: int = 20250726, work: str | None = None, zones: int = 0
) -> dict[str, Any]:
    from stratopt.bench.timing import run_isolated
    from stratopt.db.paths import FASTER

    here = __name__
    folder = Path(work or tempfile.mkdtemp(prefix="stratopt-bench-db-"))
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "timings"
    tmp.mkdir(exist_ok=True)
    made = tmp / "matrix.json"
    run_isolated(
        f"{here}:child_make_matrix",
        {"work": str(folder), "seed": seed, "out": str(made), "zones": zones},
    )
    info = json.loads(made.read_text(encoding="utf-8"))
    result: dict[str, Any] = {
        "shape": info["shape"],
        "data": info["data"],
        "repeats": repeats,
        "goals": GOALS,
    }
    result["load"] = _measure(f"{here}:child_load", {"work": str(folder)}, repeats, tmp)
    result["zones"] = zones
    result["prepare"] = _measure(
        f"{here}:child_prepare",
        {"work": str(folder), "compute": "auto", "zones": zones},
        repeats,
        tmp,
    )
    chain = {
        mode: _measure(
            f"{here}:child_rule_chain",
            {"work": str(folder), "mode": mode, "zones": zones},
            repeats,
            tmp,
        )
        for mode in ("files", "one_file")
    }
    chain["ratio"] = chain["files"]["stage_s"] / chain["one_file"]["stage_s"]
    result["rule_chain"] = chain
    result["computations"] = {}
    for computation in ("metrics", "ulta"):
        per: dict[str, Any] = {}
        for path in ("sql", "numpy"):
            kwargs = {"work": str(folder), "computation": computation, "path": path}
            per[path] = _measure(f"{here}:child_compute", kwargs, repeats, tmp)
        faster = min(per, key=lambda p: per[p]["stage_s"])
        slower = "numpy" if faster == "sql" else "sql"
        per["faster"] = faster
        per["ratio"] = per[slower]["stage_s"] / per[faster]["stage_s"]
        per["default"] = FASTER[computation]
        per["default_agrees"] = FASTER[computation] == faster
        result["computations"][computation] = per
    result["load_average"] = round(os.getloadavg()[0], 2)
    result["cpus"] = os.cpu_count()
    return result


def format_report(r: dict[str, Any]) -> str:
    g = r["goals"]
    zones = f", {r['zones']} zones, zone mode" if r.get("zones") else ""
    lines = [
        f"database stage, DuckDB, {r['shape'][0]} x {r['shape'][1]} ({r['data']}{zones}), "
        f"median of {r['repeats']} child processes",
        f"{'what':<22} {'stage s':>9} {'stage cpu s':>12} {'child wall s':>13} {'peak MB':>9}  goal",
    ]
    for key, goal in (("load", g["load_s"]), ("prepare", g["prepare_s"])):
        m = r[key]
        ok = m["stage_s"] <= goal and m["peak_rss_mb"] < g["peak_mb"]
        lines.append(
            f"{key:<22} {m['stage_s']:>9.3f} {m['stage_cpu_s']:>12.3f} {m['child_wall_s']:>13.3f} "
            f"{m['peak_rss_mb']:>9.1f}"
            f"  <= {goal:g} s, < {g['peak_mb']:g} MB: {'met' if ok else 'MISSED'}"
        )
    chain = r.get("rule_chain")
    if chain:
        for mode, label in (("files", "rules, own files"), ("one_file", "rules, one file")):
            m = chain[mode]
            lines.append(
                f"{label:<22} {m['stage_s']:>9.3f} {m['stage_cpu_s']:>12.3f} "
                f"{m['child_wall_s']:>13.3f} {m['peak_rss_mb']:>9.1f}"
            )
        lines.append(
            "  -> load_db + prepare + store_results, each rule writing its own DuckDB file "
            f"(copies): {chain['ratio']:.2f}x the time of one file written in place"
        )
    for comp, per in r["computations"].items():
        for path in ("sql", "numpy"):
            m = per[path]
            lines.append(
                f"{comp + ' ' + path:<22} {m['stage_s']:>9.3f} {m['stage_cpu_s']:>12.3f} "
                f"{m['child_wall_s']:>13.3f} "
                f"{m['peak_rss_mb']:>9.1f}"
            )
        lines.append(
            f"  -> {comp}: {per['faster']} is faster ({per['ratio']:.2f}x); pipeline default "
            f"{per['default']} ({'agrees' if per['default_agrees'] else 'DISAGREES'})"
        )
    lines.append(
        f"machine load average at the end: {r.get('load_average', '?')} on {r.get('cpus', '?')} "
        "CPUs (stage s is wall time: it grows when other work shares the cores; stage cpu s "
        "does much less)"
    )
    return "\n".join(lines)


def register(areas: argparse._SubParsersAction) -> None:
    parser = areas.add_parser(
        "db", help="load_db and prepare on DuckDB; SQL vs NumPy per computation"
    )
    parser.add_argument("--repeats", type=int, default=5, help="child runs of each (median)")
    parser.add_argument("--seed", type=int, default=20250726, help="seed of the generated matrix")
    parser.add_argument("--work", help="folder for the matrix and database (default: a temp dir)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument(
        "--zones",
        type=int,
        default=0,
        help="K > 0: a zone matrix of K zones, prepared in zone mode",
    )
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    from stratopt.runtime.atomic import write_json

    result = run(repeats=args.repeats, seed=args.seed, work=args.work, zones=args.zones)
    print(format_report(result))
    if args.json:
        write_json(args.json, result)
    return 0
