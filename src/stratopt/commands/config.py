"""`stratopt config from-ini INI [--out FILE]`: a legacy INI as a stratopt config."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("config", help="configuration tools (from-ini: a legacy INI -> config)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    ini = actions.add_parser(
        "from-ini",
        help="turn the legacy optimizer's INI into a config YAML; every key mapped or "
        "reported as not supported, with the reason (docs/legacy.md)",
    )
    ini.add_argument("ini", type=Path, help="the legacy's INI file (e.g. config_zone.ini)")
    ini.add_argument("--out", type=Path, help="config YAML to write (default: standard output)")
    ini.add_argument(
        "--source",
        help="the input (CSV file or folder) instead of the INI's data folder, whose path is "
        "the legacy machine's",
    )
    ini.set_defaults(func=_from_ini)


def _from_ini(args: argparse.Namespace) -> int:
    from stratopt.legacy.ini import config_yaml, convert_ini
    from stratopt.runtime.atomic import write_text
    from stratopt.runtime.config_schema import validate_config

    conversion = convert_ini(args.ini, args.source)
    validate_config(conversion.config)
    text = config_yaml(conversion, args.ini)
    if args.out is None:
        sys.stdout.write(text)
        return 0
    write_text(args.out, text)
    for fate in conversion.fates:
        print(fate.line(), file=sys.stderr)
    unsupported = sum(f.status == "not supported" for f in conversion.fates)
    print(
        f"{args.out}: config written ({len(conversion.fates)} INI keys: "
        f"{unsupported} not supported, each with its reason above)"
    )
    return 0
