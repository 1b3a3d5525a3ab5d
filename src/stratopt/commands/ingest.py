"""`stratopt ingest IN OUT`: the ingest stage without Snakemake."""

from __future__ import annotations

import argparse
from pathlib import Path

from stratopt import contracts


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "ingest", help="CSV/XLSX (file or folder) -> matrix.parquet + ingest.json"
    )
    parser.add_argument(
        "source", type=Path, help="a CSV/XLSX file, or a folder of them merged on Date"
    )
    parser.add_argument("out", type=Path, help="matrix.parquet to write")
    parser.add_argument("--report", type=Path, help="ingest.json (default: beside OUT)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stratopt.data.ingest import ingest

    report = args.report or args.out.with_name(contracts.INGEST.file_name())
    matrix = ingest(args.source, args.out, report)
    print(f"{args.out}: {matrix.n_days} days x {matrix.n_strategies} strategies; report {report}")
    return 0
