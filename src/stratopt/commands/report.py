"""`stratopt report RESULTS_DIR OUT`: the run report without Snakemake."""

from __future__ import annotations

import argparse
from pathlib import Path

from stratopt.errors import ConfigError, InputError


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("report", help="results/{dataset}/ -> one self-contained report.html")
    parser.add_argument("results", type=Path, help="the run's results folder, e.g. results/twin")
    parser.add_argument("out", type=Path, help="the HTML file to write")
    parser.add_argument("--config", type=Path, help="the run's config YAML, shown in the report")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import yaml

    from stratopt.report.render import write_report

    if not args.results.is_dir():
        raise InputError(args.results, "no such results folder", expected="results/{dataset}/")
    config = None
    if args.config:
        try:
            config = yaml.safe_load(args.config.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise InputError(args.config, f"cannot read the config: {exc}") from exc
        if not isinstance(config, dict):
            raise ConfigError(f"{args.config}: the config must be a mapping")
    out = write_report(args.results, args.out, config)
    print(f"{out}: report of {args.results}")
    return 0
