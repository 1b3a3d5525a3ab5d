"""`stratopt validate MATRIX OUT_DIR`: the out-of-sample validation without Snakemake."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from stratopt import contracts
from stratopt.errors import ConfigError, InputError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "validate",
        help="walk-forward validation of the search -> OUT_DIR/validation.json, "
        "validation_oos.parquet",
    )
    parser.add_argument("matrix", type=Path, help="matrix.parquet (the data before ULTA)")
    parser.add_argument("out", type=Path, help="folder for validation.json and the Parquet")
    parser.add_argument(
        "--config",
        type=Path,
        help="the run's config YAML (metric, ulta, date_range, optimize, validation); "
        "missing keys take the schema's defaults",
    )
    parser.add_argument(
        "--scheme",
        choices=("rolling", "expanding", "static"),
        help="how the training window moves (default: the config's validation.scheme)",
    )
    parser.add_argument(
        "--train", type=int, help="training sessions per fold (default: the config's)"
    )
    parser.add_argument("--test", type=int, help="test sessions per fold (default: the config's)")
    parser.add_argument(
        "--sizes", help="comma-separated portfolio sizes to validate (default: the config's)"
    )
    parser.add_argument(
        "--random", type=int, help="random portfolios per fold and size (default: the config's)"
    )
    parser.add_argument("--seed", type=int, help="the validation seed (default: the config's)")
    parser.set_defaults(func=_run)


def _config(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    import yaml

    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(path, f"cannot read the config: {exc}") from exc
    if not isinstance(config, dict):
        raise ConfigError(f"{path}: the config must be a mapping")
    return config


def _run(args: argparse.Namespace) -> int:
    from stratopt.validation.stage import validate

    config = _config(args.config)
    section = dict(config.get("validation") or {})
    for key, value in (
        ("scheme", args.scheme),
        ("train", args.train),
        ("test", args.test),
        ("random_portfolios", args.random),
        ("seed", args.seed),
    ):
        if value is not None:
            section[key] = value
    if args.sizes:
        section["sizes"] = [int(s) for s in args.sizes.split(",") if s.strip()]
    config["validation"] = section
    doc = validate(
        args.matrix,
        config,
        contracts.VALIDATION.path(args.out),
        contracts.VALIDATION_OOS.path(args.out),
    )
    print(f"recommended size {doc['recommended_size']}: {doc['verdict']}")
    return 0
