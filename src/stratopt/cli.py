"""The `stratopt` command line: one sub-command per module in stratopt.commands.

Each module in `stratopt.commands` defines `register(subparsers)`, which adds
its parser and sets `func` (called with the parsed namespace, returns an exit
code). Adding a command is adding a module; this file does not change.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys

from stratopt import __version__, commands
from stratopt.errors import StratoptError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="stratopt", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"stratopt {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{commands.__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        return int(args.func(args) or 0)
    except StratoptError as exc:
        print(f"stratopt {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
