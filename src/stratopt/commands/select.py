"""`stratopt select PREPARED RUN... --out DIR`: the select stage without Snakemake."""

from __future__ import annotations

import argparse
from pathlib import Path

from stratopt import contracts


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
    parser.add_argument(
        "--threads", type=int, default=1, help="threads drawing the PNGs (the same files)"
    )
    parser.add_argument(
        "--validation",
        type=Path,
        help="validation.json: its recommended size becomes the best overall",
    )
    parser.add_argument(
        "--flag-drawdown-below",
        type=float,
        default=1.0,
        help="flag winners with a max drawdown under this many rupees",
    )
    parser.add_argument(
        "--drawdown-floor",
        type=float,
        help="the guarded ratio's floor in rupees (default: the portfolio's own std)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stratopt.selection.select import select
    from stratopt.selection.zones import write_zone_document

    summary = select(
        args.prepared,
        args.runs,
        contracts.PORTFOLIOS.path(args.out),
        contracts.SUMMARY.path(args.out),
        contracts.LEGACY_DIR.path(args.out),
        pictures=not args.no_pictures,
        validation_path=args.validation,
        flag_drawdown_below=args.flag_drawdown_below,
        objective={"drawdown_floor": args.drawdown_floor},
        threads=max(1, args.threads),
    )
    out = {o: o.path(args.out) for o in (contracts.PORTFOLIOS, contracts.ZONES)}
    write_zone_document(args.prepared, out[contracts.PORTFOLIOS], out[contracts.ZONES])
    best = summary["best_overall"]
    print(
        f"best overall: size {best['size']} by {best['algorithm']}, fitness {best['fitness']:.6g} "
        f"(chosen by {summary['best_overall_rule']['text']}); outputs in {args.out}"
    )
    return 0
