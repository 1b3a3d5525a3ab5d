"""`stratopt bench correlation`: all pairs of a production-shaped matrix, in shards.

Each shard runs as its own child process (as a Snakemake job would), at most
`--jobs` at a time with one BLAS thread each, so "2 cores" means two shard
processes side by side. Reported: the wall time for all K shards (median of
the repeats), each shard's CPU time and peak resident memory (os.wait4), the
merge, and, in the same run, the legacy approach (one dense numpy.corrcoef
plus a histogram of its upper triangle) on a subset small enough to fit,
against the shards on that same subset. With `--kernel both` (the default)
every repeat runs the shards twice, alternately: with the compiled one-pass
tile kernel (correlation/fused.py) and with the NumPy array path, so the two
are compared under the same load; the line after them says which one the
pipeline takes for this shard size (shard.use_compiled).
`--backend cupy` times all pairs on the GPU inside one process (after a
warm-up), for scripts/gpu/check.sh.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from stratopt import contracts
from stratopt.bench.timing import Sample, Summary, format_table, run_isolated, summarise

PRODUCTION_SHAPE = (82, 25544)
TWIN_SEED = 20250726
_CHILD = """
import importlib, json, sys
mod, _, fn = sys.argv[1].partition(":")
getattr(importlib.import_module(mod), fn)(**json.loads(sys.argv[2]))
"""


# -- the work done in child processes ---------------------------------------
def shard_job(
    matrix: str,
    out: str,
    shard: int,
    shards: int,
    dtype: str,
    tile: int,
    backend: str = "numpy",
    kernel: str = "auto",
) -> None:
    """One shard as the pipeline runs it; kernel: auto (the pipeline's choice), compiled, array."""
    from stratopt.correlation.jobs import run_shard
    from stratopt.correlation.settings import CorrelationSettings

    settings = CorrelationSettings(shards=shards, dtype=dtype, tile=tile, backend=backend)
    fused = {"auto": None, "compiled": True, "array": False}[kernel]
    run_shard(matrix, out, shard, settings, fused=fused)


def merge_job(matrix: str, shards: list[str], out: str) -> None:
    from stratopt.correlation.jobs import run_merge

    run_merge(shards, matrix, out)


def dense_job(matrix: str, columns: int, bins: int = 200) -> None:
    """The legacy way on the first `columns` strategies: dense matrix, then read it."""
    from stratopt.data.matrix import read_matrix

    values = read_matrix(matrix).values[:, :columns]
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.nan_to_num(np.corrcoef(values, rowvar=False), nan=0.0)
    upper = corr[np.triu_indices(columns, 1)]
    np.histogram(upper, bins=bins, range=(-1.0, 1.0))


def gpu_job(matrix: str, shards: int, dtype: str, tile: int, report: str) -> None:
    """All shards in one process on the GPU; writes the compute seconds (warm) to `report`."""
    from stratopt.correlation.settings import CorrelationSettings
    from stratopt.correlation.shard import compute_shard
    from stratopt.data.matrix import read_matrix
    from stratopt.engine.backend import get_xp

    xp = get_xp("cupy")
    m = read_matrix(matrix)
    settings = CorrelationSettings(shards=shards, dtype=dtype, tile=tile, backend="cupy")
    compute_shard(m, 0, settings, xp=xp)  # warm-up: CUDA context, kernels compiled
    times = []
    for _ in range(3):
        xp.cuda.Device().synchronize()
        start = time.perf_counter()
        for k in range(shards):
            compute_shard(m, k, settings, xp=xp)
        xp.cuda.Device().synchronize()
        times.append(time.perf_counter() - start)
    Path(report).write_text(json.dumps({"seconds": times}))


# -- running children ---------------------------------------------------------
def _spawn(target: str, kwargs: dict, env: dict) -> subprocess.Popen:
    argv = [sys.executable, "-c", _CHILD, target, json.dumps(kwargs)]
    return subprocess.Popen(argv, env={**os.environ, **env}, stderr=subprocess.PIPE)


def run_parallel(jobs: list[tuple[str, dict]], width: int, env: dict) -> tuple[float, list[Sample]]:
    """Run the jobs, `width` at a time; (total wall, one Sample per job in order)."""
    start = time.perf_counter()
    samples: list[Sample | None] = [None] * len(jobs)
    running: dict[int, tuple[int, subprocess.Popen, float]] = {}
    todo = list(enumerate(jobs))
    while todo or running:
        while todo and len(running) < width:
            k, (target, kwargs) = todo.pop(0)
            proc = _spawn(target, kwargs, env)
            running[proc.pid] = (k, proc, time.perf_counter())
        pid, status, usage = os.wait4(-1, 0)
        if pid not in running:
            continue
        k, proc, began = running.pop(pid)
        err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"benchmark child {jobs[k][0]} failed:\n{err[-4000:]}")
        samples[k] = Sample(
            wall_s=time.perf_counter() - began,
            cpu_s=usage.ru_utime + usage.ru_stime,
            peak_rss_mb=usage.ru_maxrss / 1024.0,
        )
    return time.perf_counter() - start, [s for s in samples if s is not None]


# -- the matrix ---------------------------------------------------------------
def production_matrix(cache: Path, reference: Path, strategies: int) -> tuple[Path, str]:
    """The twin (stratopt.synth) when it and the reference data are there, else a seeded stand-in."""
    from stratopt.data.matrix import Matrix, write_matrix

    cache.mkdir(parents=True, exist_ok=True)
    try:
        from stratopt.synth import generate_twin, load_reference

        path = cache / f"twin_seed{TWIN_SEED}_n{strategies}.parquet"
        if not path.exists():
            twin = generate_twin(load_reference(reference), TWIN_SEED, strategies)
            dates = np.array(twin.dates, dtype="datetime64[D]")
            write_matrix(Matrix(dates, list(twin.days), list(twin.names), twin.values), path)
        return path, f"production twin (stratopt.synth, seed {TWIN_SEED})"
    except (ImportError, OSError) as exc:
        path = cache / f"generated_seed{TWIN_SEED}_n{strategies}.parquet"
        if not path.exists():
            write_matrix(generated_matrix(strategies), path)
        return path, f"seeded generated matrix (twin unavailable: {exc})"


def generated_matrix(strategies: int, days: int = PRODUCTION_SHAPE[0]):
    """124 windows x exit rules: strategies of a window share a factor, like the real ones."""
    from stratopt.data.matrix import Matrix

    rng = np.random.default_rng(TWIN_SEED)
    windows = 124
    factor = rng.standard_normal((days, windows)) * 500.0
    w = np.arange(strategies) % windows
    stop = rng.uniform(0.2, 3.0, strategies)
    values = (
        np.maximum(factor[:, w], -stop * 500.0) + rng.standard_normal((days, strategies)) * 100.0
    )
    names = [
        f"SENSEX {900 + (k % 6) * 100:04d}-{1000 + (k % 6) * 100 + (k // 6) % 50:04d} SL{i + 1}%"
        for i, k in enumerate(w)
    ]
    dates = np.datetime64("2024-01-04") + np.arange(days) * 7
    return Matrix(dates, ["Thursday"] * days, names, values)


# -- the command ----------------------------------------------------------------
def register(areas: argparse._SubParsersAction) -> None:
    p = areas.add_parser(
        "correlation", help="all pairs in shards vs the dense corrcoef (docs/correlation.md)"
    )
    p.add_argument(
        "--strategies", type=int, default=PRODUCTION_SHAPE[1], help="N, the matrix's strategies"
    )
    p.add_argument("--shards", type=int, default=2, help="K, the shards the pairs are split into")
    p.add_argument("--jobs", type=int, default=2, help="shard processes at a time (cores)")
    p.add_argument("--tile", type=int, default=512, help="strategies per tile side in a shard")
    p.add_argument(
        "--dtype",
        choices=["float64", "float32", "both"],
        default="both",
        help="precision of the correlations (both: one figure each)",
    )
    p.add_argument("--repeats", type=int, default=3, help="timed runs of each (median)")
    p.add_argument("--subset", type=int, default=8000, help="strategies for the dense baseline")
    p.add_argument(
        "--backend", choices=["numpy", "cupy"], default="numpy", help="the shards' array module"
    )
    p.add_argument(
        "--kernel",
        choices=["compiled", "array", "auto", "both"],
        default="both",
        help="NumPy backend: the compiled one-pass tile kernel (fused.py), the array path, "
        "the pipeline's choice by shard size (auto), or compiled and array alternately (both)",
    )
    p.add_argument(
        "--cache", default="results/bench-cache", help="where the generated matrix is kept"
    )
    p.add_argument(
        "--reference-data",
        default="../shared/data",
        help="the real data the twin is made from (else a plain generated matrix)",
    )
    p.add_argument("--json", help="also write the figures here")
    p.set_defaults(func=main)


def _shards_once(
    matrix: Path, tmp: Path, shards: int, jobs: int, dtype: str, tile: int, kernel: str
) -> tuple[float, list[Sample], Sample]:
    outs = [str(contracts.CORRELATION_SHARD.path(tmp, shard=k)) for k in range(shards)]
    work = [
        (
            f"{__name__}:shard_job",
            {
                "matrix": str(matrix),
                "out": outs[k],
                "shard": k,
                "shards": shards,
                "dtype": dtype,
                "tile": tile,
                "kernel": kernel,
            },
        )
        for k in range(shards)
    ]
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    wall, samples = run_parallel(work, jobs, env)
    merge = run_isolated(
        f"{__name__}:merge_job",
        {"matrix": str(matrix), "shards": outs, "out": str(contracts.CORRELATION.path(tmp))},
    )
    return wall, samples, merge


def _measure_shards(
    name: str, matrix: Path, tmp: Path, args: argparse.Namespace, dtype: str, kernels: list[str]
) -> dict[str, tuple[Summary, dict]]:
    """Each kernel's figures; the kernels alternate within each repeat (same load for both)."""
    runs: dict[str, list[tuple[float, list[Sample], Sample]]] = {k: [] for k in kernels}
    for _ in range(args.repeats):
        for kernel in kernels:
            runs[kernel].append(
                _shards_once(matrix, tmp, args.shards, args.jobs, dtype, args.tile, kernel)
            )
    return {
        k: _shard_figures(f"{name} {k}" if len(kernels) > 1 else name, runs[k], args.shards)
        for k in kernels
    }


def _shard_figures(
    name: str, runs: list[tuple[float, list[Sample], Sample]], shards: int
) -> tuple[Summary, dict]:
    walls = [
        Sample(wall, sum(s.cpu_s for s in samples), max(s.peak_rss_mb for s in samples))
        for wall, samples, _ in runs
    ]
    per_shard = [samples for _, samples, _ in runs]
    merges = [merge for _, _, merge in runs]
    detail = {
        "all_pairs_wall_s": statistics.median(s.wall_s for s in walls),
        "shard_cpu_s_median": [
            statistics.median(r[k].cpu_s for r in per_shard) for k in range(shards)
        ],
        "shard_peak_rss_mb_median": [
            statistics.median(r[k].peak_rss_mb for r in per_shard) for k in range(shards)
        ],
        "merge_wall_s": statistics.median(m.wall_s for m in merges),
        "merge_peak_rss_mb": statistics.median(m.peak_rss_mb for m in merges),
    }
    return summarise(name, walls), detail


def main(args: argparse.Namespace) -> int:
    matrix, what = production_matrix(Path(args.cache), Path(args.reference_data), args.strategies)
    print(f"matrix: {what}, {args.strategies} strategies x {PRODUCTION_SHAPE[0]} days ({matrix})")
    if args.backend == "cupy":
        return _gpu(matrix, args)
    dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
    kernels = ["compiled", "array"] if args.kernel == "both" else [args.kernel]
    rows: list[Summary] = []
    figures: dict = {
        "matrix": what,
        "strategies": args.strategies,
        "shards": args.shards,
        "jobs": args.jobs,
        "tile": args.tile,
        "kernels": kernels,
    }
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        for dtype in dtypes:
            measured = _measure_shards(f"all pairs {dtype}", matrix, tmp, args, dtype, kernels)
            for kernel, (summary, detail) in measured.items():
                rows.append(summary)
                figures[f"all_pairs_{dtype}_{kernel}"] = {**summary.to_dict(), **detail}
        # the legacy dense approach, on a subset that fits, against the shards on the same subset
        sub = min(args.subset, args.strategies)
        sub_matrix = tmp / "subset.parquet"
        _write_subset(matrix, sub_matrix, sub)
        dense = [
            run_isolated(f"{__name__}:dense_job", {"matrix": str(sub_matrix), "columns": sub})
            for _ in range(args.repeats)
        ]
        rows.append(summarise(f"dense corrcoef {sub} (legacy)", dense))
        sub_args = argparse.Namespace(**{**vars(args), "strategies": sub})
        sub_summary, sub_detail = _measure_shards(
            f"shards {sub} {dtypes[0]} {kernels[0]}",
            sub_matrix,
            tmp,
            sub_args,
            dtypes[0],
            kernels[:1],
        )[kernels[0]]
        rows.append(sub_summary)
        figures["subset"] = {
            "strategies": sub,
            "dense": rows[-2].to_dict(),
            "shards": {**sub_summary.to_dict(), **sub_detail},
        }
    print(format_table(rows, baseline=f"dense corrcoef {sub} (legacy)"))
    for dtype in dtypes:
        for kernel in kernels:
            d = figures[f"all_pairs_{dtype}_{kernel}"]
            print(
                f"{dtype} {kernel}: all pairs {d['all_pairs_wall_s']:.2f} s wall on {args.jobs} cores; "
                f"per shard CPU {', '.join(f'{x:.2f}' for x in d['shard_cpu_s_median'])} s, "
                f"peak RSS {', '.join(f'{x:.0f}' for x in d['shard_peak_rss_mb_median'])} MB; "
                f"merge {d['merge_wall_s']:.2f} s, {d['merge_peak_rss_mb']:.0f} MB"
            )
        if len(kernels) == 2:
            new, old = (figures[f"all_pairs_{dtype}_{k}"] for k in kernels)
            print(
                f"{dtype}: compiled kernel vs array path (same run): wall "
                f"{old['wall_s'] / new['wall_s']:.2f}x, CPU {old['cpu_s'] / new['cpu_s']:.2f}x; "
                f"the pipeline takes the {_auto_kernel(args, dtype)} path for this shard size"
            )
    print(
        f"(peak MB in the table: the largest shard's; speedup: dense wall / shards wall on {sub} strategies)"
    )
    if args.json:
        from stratopt.runtime.atomic import write_json

        write_json(args.json, figures)
    return 0


def _auto_kernel(args: argparse.Namespace, dtype: str) -> str:
    """What compute_shard(fused=None) picks for the largest shard of this run."""
    from stratopt.correlation.plan import plan_shards
    from stratopt.correlation.shard import use_compiled

    pairs = max(
        sum(t.pairs for t in s) for s in plan_shards(args.strategies, args.shards, args.tile)
    )
    return "compiled" if use_compiled(np, dtype, pairs) else "array"


def _write_subset(source: Path, out: Path, columns: int) -> None:
    from stratopt.data.matrix import Matrix, read_matrix, write_matrix

    m = read_matrix(source)
    write_matrix(
        Matrix(
            m.dates,
            m.days,
            m.names[:columns],
            np.ascontiguousarray(m.values[:, :columns]),
            m.labels[:columns],
        ),
        out,
    )


def _gpu(matrix: Path, args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmpdir:
        report = Path(tmpdir) / "gpu.json"
        dtypes = ["float64", "float32"] if args.dtype == "both" else [args.dtype]
        for dtype in dtypes:
            sample = run_isolated(
                f"{__name__}:gpu_job",
                {
                    "matrix": str(matrix),
                    "shards": args.shards,
                    "dtype": dtype,
                    "tile": args.tile,
                    "report": str(report),
                },
            )
            seconds = json.loads(report.read_text())["seconds"]
            print(
                f"GPU {dtype}: all pairs in {statistics.median(seconds):.3f} s (median of {len(seconds)}, warm; "
                f"tile {args.tile}, {args.shards} shards in one process); process wall {sample.wall_s:.1f} s, "
                f"host peak RSS {sample.peak_rss_mb:.0f} MB; goal < 0.1 s"
            )
    return 0
