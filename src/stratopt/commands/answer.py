"""`stratopt answer RESULTS_DIR`: the run's answer in a few lines (what `make run` ends with)."""

from __future__ import annotations

import argparse
from pathlib import Path

from stratopt.errors import InputError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "answer",
        help="results/{dataset}/ -> the recommended portfolio, its out-of-sample verdict and "
        "where its files are (--data: what ingest read, first)",
    )
    parser.add_argument("results", type=Path, help="the run's results folder, e.g. results/twin")
    parser.add_argument(
        "--data", action="store_true", help="first show what ingest read (ingest.json)"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stratopt import contracts
    from stratopt.data.ingest_summary import read_summary
    from stratopt.report.answer import emit, format_answer

    if not args.results.is_dir():
        raise InputError(args.results, "no such results folder", expected="results/{dataset}/")
    if args.data:
        ingest = contracts.INGEST.path(args.results)
        try:
            emit(read_summary(ingest) + "\n")
        except (OSError, ValueError) as exc:
            raise InputError(ingest, f"cannot read the ingest report: {exc}") from exc
    emit(format_answer(args.results))
    return 0 if contracts.SUMMARY.path(args.results).exists() else 1
