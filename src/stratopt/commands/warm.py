"""`stratopt warm`: compile every numba kernel into its cache (`make setup` runs it)."""

from __future__ import annotations

import argparse
import logging


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "warm",
        help="compile every numba kernel into its on-disk cache once, so that no pipeline "
        "job compiles one (docs/performance.md)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stratopt.runtime.warm import REFERENCE_ONLY, kernels, not_cached, warm

    logging.getLogger("stratopt").setLevel(logging.WARNING)  # the stages' own lines
    seconds = warm()
    total = len(list(kernels()))
    uncached = not_cached()
    missing = [name for name in uncached if name not in REFERENCE_ONLY]
    steps = ", ".join(f"{name} {s:.1f} s" for name, s in seconds.items())
    print(f"numba kernels in the cache: {total - len(uncached)} of {total} ({steps})")
    if missing:
        print(f"not reached by the warm-up (compiled on first use): {', '.join(missing)}")
    return 0
