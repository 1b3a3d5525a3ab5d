"""`stratopt bench synth`: how long the production twin takes (budget: 30 s on 2 cores).

Three targets, alternating, each in its own child: the whole command (read
the reference data, generate, write the CSV), generation alone, and reading
the reference data alone; the ratio column is against the whole command.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from stratopt.bench.timing import compare, format_table

BUDGET_S = 30.0


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("synth", help="full twin generation time (median of several runs)")
    parser.add_argument(
        "--reference-data",
        type=Path,
        default=Path("../shared/data"),
        help="the public real data the twin is made from",
    )
    parser.add_argument("--seed", type=int, default=20250726, help="the twin's seed")
    parser.add_argument(
        "--strategies", type=int, default=None, help="only the first N (default: all 25,544)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="runs of each (median; at least 3)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.set_defaults(func=_run)


def write_full(reference_data: str, out: str, seed: int, strategies: int | None) -> None:
    from stratopt.synth import synth

    synth(reference_data, out, seed, strategies)


def generate_only(reference_data: str, seed: int, strategies: int | None) -> None:
    from stratopt.synth import generate_twin
    from stratopt.synth.reference import load_reference

    generate_twin(load_reference(reference_data), seed, strategies)


def read_reference(reference_data: str) -> None:
    from stratopt.synth.reference import load_reference

    load_reference(reference_data)


def _run(args: argparse.Namespace) -> int:
    repeats = max(3, args.repeats)
    ref = str(args.reference_data)
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "twin.csv")
        common = {"reference_data": ref, "seed": args.seed, "strategies": args.strategies}
        results = compare(
            {
                "synth: reference -> CSV": (f"{__name__}:write_full", {**common, "out": out}),
                "generate (no CSV)": (f"{__name__}:generate_only", common),
                "read reference data": (f"{__name__}:read_reference", {"reference_data": ref}),
            },
            repeats=repeats,
        )
        size = Path(out).stat().st_size
    rows = list(results.values())
    full = results["synth: reference -> CSV"]
    print(f"twin seed {args.seed}: {size:,} bytes; {repeats} runs each, medians")
    print(format_table(rows, baseline="synth: reference -> CSV"))
    print(
        f"budget {BUDGET_S:.0f} s: median {full.wall_s:.2f} s ({full.wall_s / BUDGET_S:.0%} of it)"
    )
    if args.json:
        args.json.write_text(
            json.dumps({"bytes": size, **{r.name: r.to_dict() for r in rows}}, indent=2)
        )
    return 0 if full.wall_s <= BUDGET_S else 1
