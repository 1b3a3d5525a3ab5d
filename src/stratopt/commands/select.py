"""`stratopt select PREPARED RUN... --out DIR`: the select stage without Snakemake."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "select",
        help="best portfolio per size across runs -> portfolios.parquet, summary.json, zones.json, "
        "legacy reports",
    )
    parser.add_argument("prepared", type=Path, help="prepared.parquet the runs searched")
    parser.add_argument("runs", type=Path, nargs="+", help="runs/{algorithm}.json files")
    parser.add_argument(
        "--out", type=Path, required=True, help="results folder (e.g. results/twin)"
    )
    parser.add_argument("--no-pictures", action="store_true", help="skip the PNGs")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stratopt.search.selection import select
    from stratopt.search.zone_outputs import write_zone_document

    summary = select(
        args.prepared,
        args.runs,
        args.out / "portfolios.parquet",
        args.out / "summary.json",
        args.out / "portfolios",
        pictures=not args.no_pictures,
    )
    write_zone_document(args.prepared, args.out / "portfolios.parquet", args.out / "zones.json")
    best = summary["best_overall"]
    print(
        f"best overall: size {best['size']} by {best['algorithm']}, fitness {best['fitness']:.6g}; "
        f"outputs in {args.out}"
    )
    return 0
