"""`stratopt bench ingest FILE`: CSV -> Parquet, the Parquet read-back, and pandas' read.

pandas' C-engine read of the same file is the legacy's own first step (the
legacy reference); it is measured in the same run, alternating with ours.
The timed functions live in stratopt.bench._ingest_targets, which
imports pandas and the ingest code at module import, outside the timed call,
for all three; this module stays light, since the CLI imports it at start-up.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from stratopt import contracts
from stratopt.bench.timing import compare, format_table, run_isolated

TARGETS = "stratopt.bench._ingest_targets"


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("ingest", help="CSV -> Parquet and read-back, against pandas.read_csv")
    parser.add_argument("file", type=Path, help="the CSV to ingest (e.g. the production twin)")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each (median)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(contracts.MATRIX.path(tmp))
        # Warm the page cache and write the file read back, in a child: a large
        # parent would lend its peak resident set to every child it forks.
        run_isolated(f"{TARGETS}:csv_to_parquet", {"path": str(args.file), "out": out})
        results = compare(
            {
                "pandas.read_csv (legacy load)": (
                    f"{TARGETS}:pandas_read",
                    {"path": str(args.file)},
                ),
                "stratopt ingest CSV -> Parquet": (
                    f"{TARGETS}:csv_to_parquet",
                    {"path": str(args.file), "out": out},
                ),
                "Parquet -> T x N float64": (f"{TARGETS}:parquet_to_array", {"path": out}),
            },
            repeats=args.repeats,
        )
    rows = list(results.values())
    print(
        f"file: {args.file} ({args.file.stat().st_size / 1e6:.1f} MB), {args.repeats} runs each, medians"
    )
    print(format_table(rows, baseline="pandas.read_csv (legacy load)"))
    if args.json:
        args.json.write_text(json.dumps({r.name: r.to_dict() for r in rows}, indent=2))
    return 0
