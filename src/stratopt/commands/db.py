"""`stratopt db load|prepare`: the database stages without Snakemake."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stratopt import contracts


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("db", help="database stage: load the matrix, prepare it in SQL")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    load = actions.add_parser("load", help="matrix.parquet -> tables pnl/strategies/sessions")
    load.add_argument("matrix", type=Path, help="matrix.parquet (from `stratopt ingest`)")
    _common(load)
    load.set_defaults(func=_load)

    prep = actions.add_parser(
        "prepare",
        help="date filter, metrics, ULTA -> prepared.parquet, strategy_metrics.*, inversion_*",
    )
    _common(prep)
    prep.add_argument(
        "--start", help="first date kept, YYYY-MM-DD (default: the config's date_range.start)"
    )
    prep.add_argument(
        "--end", help="last date kept, YYYY-MM-DD (default: the config's date_range.end)"
    )
    prep.add_argument("--no-ulta", action="store_true", help="no inversion (config ulta: false)")
    prep.add_argument(
        "--zones", action="store_true", help="zone mode (config zone.enabled; docs/zones.md)"
    )
    prep.add_argument(
        "--zone-weights",
        help="comma-separated weights in sorted zone order (default: the config's zone.weights)",
    )
    prep.add_argument(
        "--compute",
        choices=["auto", "sql", "numpy"],
        help="metrics and ULTA in SQL or NumPy (default: config, else auto = the faster)",
    )
    prep.set_defaults(func=_prepare)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--results", type=Path, required=True, help="results folder (e.g. results/twin)"
    )
    parser.add_argument(
        "--config", type=Path, help="a pipeline config (its database, date_range, ulta keys)"
    )
    parser.add_argument(
        "--backend",
        choices=["duckdb", "heavydb"],
        help="database engine (default: the config's database.backend, else duckdb)",
    )


def _config(args: argparse.Namespace) -> dict[str, Any]:
    import yaml

    config: dict[str, Any] = {}
    if args.config:
        config = yaml.safe_load(args.config.read_text(encoding="utf-8")) or {}
    database = dict(config.get("database") or {})
    if args.backend:
        database["backend"] = args.backend
    if getattr(args, "compute", None):
        database["compute"] = args.compute
    config["database"] = database
    rng = dict(config.get("date_range") or {})
    for key in ("start", "end"):
        if getattr(args, key, None):
            rng[key] = getattr(args, key)
    config["date_range"] = rng
    if getattr(args, "no_ulta", False):
        config["ulta"] = False
    zone = dict(config.get("zone") or {})
    if getattr(args, "zones", False):
        zone["enabled"] = True
    if getattr(args, "zone_weights", None):
        zone["weights"] = [float(w) for w in args.zone_weights.split(",")]
    config["zone"] = zone
    return config


def _load(args: argparse.Namespace) -> int:
    from stratopt.db import open_database
    from stratopt.db.load import load_db

    config = _config(args)
    with open_database(config, args.results) as db:
        report = load_db(args.matrix, db, contracts.LOAD.path(args.results))
    print(f"{report['database']}: {report['tables']}; report {contracts.LOAD.path(args.results)}")
    return 0


def _prepare(args: argparse.Namespace) -> int:
    from stratopt.db import open_database
    from stratopt.db.prepare import PrepareOutputs, prepare

    config = _config(args)
    with open_database(config, args.results) as db:
        summary = prepare(db, config, PrepareOutputs.under(args.results))
    print(
        f"{summary['days']} days x {summary['strategies']} strategies, "
        f"{summary['inverted']} inverted (metrics: {summary['paths']['metrics']}, "
        f"ULTA: {summary['paths']['ulta']}); outputs in {args.results}"
    )
    return 0
