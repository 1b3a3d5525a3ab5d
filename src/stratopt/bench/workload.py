"""`stratopt bench workload NAME`: the legacy baseline and the tuned pipeline, side by side.

Runs a named workload (config/workloads/NAME.yaml) on one input: baseline
and tuned alternately, each stage in its own child process, then checks
that both computed the same numbers, and writes bench.json + bench.md
(docs/benchmark.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from stratopt import contracts


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "workload",
        help="baseline vs tuned pipeline on a named workload (config/workloads/NAME.yaml)",
    )
    parser.add_argument(
        "name", help="workload name (legacy-production, one-size, ci) or a YAML file"
    )
    parser.add_argument(
        "--input", type=Path, help="the CSV to run on (default: the workload's input)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        help="runs of each side (default: the workload's; a slow baseline keeps its own cap)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="where bench.json and bench.md go (default: results/bench/NAME)",
    )
    parser.add_argument(
        "--keep-work", action="store_true", help="keep both sides' outputs under OUT/bench-work"
    )
    parser.add_argument(
        "--snakemake",
        type=int,
        metavar="CORES",
        help="also time the whole tuned pipeline through `snakemake --cores CORES` (ingest to report)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stratopt.bench.sidebyside.runner import run_bench
    from stratopt.bench.sidebyside.workloads import load_workload
    from stratopt.errors import ConfigError

    if args.repeats is not None and args.repeats < 1:
        raise ConfigError(f"--repeats must be >= 1, got {args.repeats}")
    workload = load_workload(args.name)
    out = args.out or Path(contracts.results_dir("bench")) / workload.name
    doc = run_bench(
        workload,
        out,
        input_path=args.input,
        repeats=args.repeats,
        keep_work=args.keep_work,
        snakemake_cores=args.snakemake,
        say=_say,
    )
    _say(f"wrote {contracts.BENCH.path(out)} and {contracts.BENCH_MD.path(out)}")
    return 0 if doc["equivalence_passed"] is not False else 1


def _say(text: str) -> None:
    print(text, flush=True)
