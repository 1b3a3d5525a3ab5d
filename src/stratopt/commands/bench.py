"""`stratopt bench AREA ...`: benchmark commands, one module per area in stratopt.bench."""

from __future__ import annotations

import argparse
import importlib
import pkgutil

from stratopt import bench


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("bench", help="measure a stage: medians, peak memory, ratios")
    areas = parser.add_subparsers(dest="area", required=True, metavar="AREA")
    for info in sorted(pkgutil.iter_modules(bench.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.ispkg:
            continue
        module = importlib.import_module(f"{bench.__name__}.{info.name}")
        if hasattr(module, "register"):
            module.register(areas)
