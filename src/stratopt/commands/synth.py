"""`stratopt synth --seed S --out FILE`: write the production twin without Snakemake."""

from __future__ import annotations

import argparse
from pathlib import Path

DEFAULT_REFERENCE = Path("../shared/data")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("synth", help="write the production-shaped twin CSV (docs/twin.md)")
    parser.add_argument("--seed", type=int, required=True, help="same seed, same bytes")
    parser.add_argument("--out", type=Path, required=True, help="CSV to write")
    parser.add_argument(
        "--strategies",
        type=int,
        default=None,
        help="only the first N strategies (default: all 25,544)",
    )
    parser.add_argument(
        "--zones", type=int, default=0, help="K > 0: a zone file, K rows (Date, Zone, Day) per date"
    )
    parser.add_argument(
        "--reference-data",
        type=Path,
        default=DEFAULT_REFERENCE,
        help="folder with the public real data",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stratopt.synth import synth

    synth(args.reference_data, args.out, args.seed, args.strategies, args.zones)
    print(f"{args.out}: {args.out.stat().st_size:,} bytes")
    return 0
