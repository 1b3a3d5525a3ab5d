"""`stratopt bench profiling`: what running a stage under py-spy costs.

Each repetition is a fresh Python (benchmarks.timing.run_isolated), like a
rule script: it imports the stage, then calls pipeline.run_rule with a plain
RuleContext, once with profiling off and once with STRATOPT_PROFILE=1 (py-spy
launches a child, records raw stacks, and the SVG and speedscope files are
derived). The two alternate; the overhead is the ratio of the medians.

Stages measured: the real ingest stage on a CSV, and the real optimize stage
(one algorithm over a few sizes) on the matrix ingest wrote.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from stratopt.benchmarks.timing import Summary, compare

DEFAULT_CSV = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "sensex_real_sample_500.csv"
)


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("profiling", help="a stage with and without py-spy: the overhead")
    parser.add_argument(
        "--csv",
        type=Path,
        default=DEFAULT_CSV,
        help="the CSV ingest reads (default: the real sample)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="runs of each (median; default 5)")
    parser.add_argument(
        "--rate", type=int, default=100, help="py-spy samples per second (default 100)"
    )
    parser.add_argument(
        "--algorithm", default="sa", help="the optimize stage's algorithm (default sa)"
    )
    parser.add_argument("--sizes", default="10-14", help="portfolio sizes MIN-MAX (default 10-14)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(func=_run)


def run_stage(
    stage: str, workdir: str, source: str, profile: bool, rate: int, algorithm: str, sizes: str
) -> None:
    """One rule run, as a rule script would do it (in the benchmark's child)."""
    from stratopt.pipeline import run_rule
    from stratopt.rulecontext import NamedList, RuleContext, plain_namedlist

    os.environ["STRATOPT_PROFILE"] = "1" if profile else "0"
    os.environ["STRATOPT_PROFILE_DIR"] = str(Path(workdir) / "profiles")
    lo, hi = (int(x) for x in sizes.split("-"))
    config: dict[str, Any] = {
        "dataset": "bench",
        "profiling": {"enabled": False, "rate": rate},
        "optimize": {
            "min_size": lo,
            "max_size": hi,
            "seed": 1,
            "generations": 100,
            "population": 30,
        },
    }
    work = Path(workdir)
    if stage == "ingest":
        from stratopt.ingest import ingest_rule as fn

        ctx = RuleContext(
            rule="ingest",
            input=NamedList([source]),
            output=plain_namedlist(
                {"matrix": str(work / "matrix.parquet"), "report": str(work / "ingest.json")}
            ),
            log=NamedList([str(work / "ingest.log")]),
            config=config,
        )
    else:
        from stratopt.optimize import optimize_rule as fn

        ctx = RuleContext(
            rule="optimize",
            input=NamedList([str(work / "matrix.parquet")]),
            output=NamedList([str(work / "runs" / f"{algorithm}.json")]),
            wildcards=plain_namedlist({"algorithm": algorithm}),
            log=NamedList([str(work / "optimize.log")]),
            config=config,
            threads=1,
        )
        # a finished run would be resumed from its checkpoints: start clean each time
        for old in (work / "runs").glob(f"{algorithm}/*.json"):
            old.unlink()
    run_rule(ctx, fn)


def overhead_rows(results: dict[str, Summary], stages: list[str]) -> list[dict[str, Any]]:
    rows = []
    for stage in stages:
        plain, prof = results[f"{stage}"], results[f"{stage} + py-spy"]
        rows.append(
            {
                "stage": stage,
                "plain_wall_s": plain.wall_s,
                "profiled_wall_s": prof.wall_s,
                "overhead_s": prof.wall_s - plain.wall_s,
                "overhead_pct": 100.0 * (prof.wall_s - plain.wall_s) / plain.wall_s,
                "plain_cpu_s": plain.cpu_s,
                "profiled_cpu_s": prof.cpu_s,
            }
        )
    return rows


def _run(args: argparse.Namespace) -> int:
    stages = ["ingest", "optimize"]
    with tempfile.TemporaryDirectory(prefix="stratopt-bench-profiling-") as tmp:
        common = {
            "workdir": tmp,
            "source": str(args.csv),
            "rate": args.rate,
            "algorithm": args.algorithm,
            "sizes": args.sizes,
        }
        target = f"{__name__}:run_stage"
        from stratopt.benchmarks.timing import run_isolated

        run_isolated(
            target, {**common, "stage": "ingest", "profile": False}
        )  # warm caches, write the matrix
        targets = {}
        for stage in stages:
            targets[stage] = (target, {**common, "stage": stage, "profile": False})
            targets[f"{stage} + py-spy"] = (target, {**common, "stage": stage, "profile": True})
        results = compare(targets, repeats=args.repeats)
    rows = overhead_rows(results, stages)
    print(
        f"py-spy at {args.rate} Hz; {args.repeats} runs each, alternating; medians of whole rule runs"
    )
    print(f"{'stage':<10} {'plain s':>9} {'py-spy s':>9} {'extra s':>8} {'overhead':>9}")
    for r in rows:
        print(
            f"{r['stage']:<10} {r['plain_wall_s']:>9.3f} {r['profiled_wall_s']:>9.3f} "
            f"{r['overhead_s']:>8.3f} {r['overhead_pct']:>8.1f}%"
        )
    if args.json:
        doc = {
            "rate": args.rate,
            "repeats": args.repeats,
            "rows": rows,
            "runs": {k: v.to_dict() for k, v in results.items()},
        }
        args.json.write_text(json.dumps(doc, indent=2))
    return 0
