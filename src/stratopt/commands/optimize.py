"""`stratopt optimize PREPARED RUNS_DIR`: the optimize stage without Snakemake."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stratopt.errors import ConfigError
from stratopt.search.runner import DEFAULT_POOL, POOLS
from stratopt.search.settings import OptimizeSettings

DEFAULTS = OptimizeSettings()


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "optimize",
        help="search the best portfolio per size with each algorithm -> RUNS_DIR/{algorithm}.json",
    )
    parser.add_argument("prepared", type=Path, help="prepared.parquet (stratopt matrix layout)")
    parser.add_argument(
        "runs_dir", type=Path, help="where runs/{algorithm}.json and checkpoints go"
    )
    parser.add_argument(
        "--algorithms",
        default="ga,pso,sa,de,aco,hc,bo,rs",
        help="comma-separated plugin names",
    )
    parser.add_argument(
        "--preset",
        choices=("default", "legacy"),
        default=DEFAULTS.preset,
        help="default: each algorithm as its name promises; legacy: the legacy's loops",
    )
    parser.add_argument(
        "--min-size", type=int, default=DEFAULTS.min_size, help="smallest portfolio size"
    )
    parser.add_argument(
        "--max-size", type=int, default=DEFAULTS.max_size, help="largest portfolio size"
    )
    parser.add_argument(
        "--generations", type=int, default=DEFAULTS.generations, help="G, the legacy's generations"
    )
    parser.add_argument(
        "--population", type=int, default=DEFAULTS.population, help="P, the legacy's population"
    )
    parser.add_argument(
        "--mutation-rate",
        type=float,
        default=DEFAULTS.mutation_rate,
        help="m, clamped to 0.01..0.5 as the legacy does",
    )
    parser.add_argument(
        "--seed", type=int, default=DEFAULTS.seed, help="same seed and settings, same results"
    )
    parser.add_argument(
        "--budget",
        type=int,
        help="evaluations per search, every algorithm (default: G x P with the default preset, "
        "each algorithm's legacy count with the legacy preset)",
    )
    parser.add_argument(
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="ALGORITHM.SETTING=VALUE",
        help="one of an algorithm's own settings, as optimize.params.ALGORITHM.SETTING in the "
        "config (e.g. aco.ants=20; repeatable; docs/algorithms.md lists them)",
    )
    parser.add_argument(
        "--metric", default=DEFAULTS.metric, help="the fitness maximised (docs/engine.md)"
    )
    parser.add_argument(
        "--drawdown-threshold",
        type=float,
        default=DEFAULTS.drawdown_threshold,
        help="the legacy's drawdown threshold of the ratio metrics",
    )
    parser.add_argument(
        "--drawdown-floor",
        type=float,
        help="guarded ratio: the drawdown floor in rupees (default: the portfolio's own std)",
    )
    parser.add_argument(
        "--balanced", action="store_true", help="penalise portfolios unbalanced across files"
    )
    parser.add_argument(
        "--penalty-factor",
        type=float,
        default=DEFAULTS.penalty_factor,
        help="weight of the balance penalty",
    )
    parser.add_argument(
        "--backend", choices=("numpy", "cupy"), default=DEFAULTS.backend, help="array module"
    )
    parser.add_argument("--workers", type=int, default=1, help="workers sharing the searches")
    parser.add_argument(
        "--pool", choices=POOLS, default=DEFAULT_POOL, help="the workers: processes or threads"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from stratopt.algorithms.base import resolve_budget
    from stratopt.search.optimize import optimize

    settings = OptimizeSettings(
        preset=args.preset,
        min_size=args.min_size,
        max_size=args.max_size,
        generations=args.generations,
        population=args.population,
        mutation_rate=args.mutation_rate,
        seed=args.seed,
        metric=args.metric,
        drawdown_threshold=args.drawdown_threshold,
        drawdown_floor=args.drawdown_floor,
        balanced=args.balanced,
        penalty_factor=args.penalty_factor,
        backend=args.backend,
        budget=resolve_budget(args.preset, args.budget, args.generations, args.population),
        params=parse_settings(args.settings),
    )
    algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    paths = optimize(
        args.prepared,
        algorithms,
        settings,
        args.runs_dir,
        workers=args.workers,
        pool=args.pool,
        progress=not args.no_progress,
    )
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def parse_settings(items: list[str]) -> dict[str, dict[str, Any]]:
    """`--set aco.ants=20` items as optimize.params (values read as YAML: 20, 0.5, null)."""
    import yaml

    params: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, text = item.partition("=")
        algorithm, dot, name = key.strip().partition(".")
        if not (sep and dot and algorithm and name):
            raise ConfigError(f"--set {item!r}: expected ALGORITHM.SETTING=VALUE, e.g. aco.ants=20")
        params.setdefault(algorithm.lower(), {})[name] = yaml.safe_load(text)
    return params
