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
from typing import Any

from stratopt import __version__, commands
from stratopt.errors import StratoptError


class DefaultsFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """argparse's "(default: X)" after each option's help, unless the help already says its
    default in words ("(default: the config's)": one computed when the command runs), or
    "(required)" for an option that has none."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if action.required and action.option_strings:
            return f"{text} (required)"
        if "(default:" in text:
            return text
        return super()._get_help_string(action)


class Parser(argparse.ArgumentParser):
    """Every parser of the command line, sub-commands included: each option's help shows
    its default (tests/test_cli_help.py fails on an option without one)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", DefaultsFormatter)
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="stratopt", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"stratopt {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    # sub-command parsers (and theirs: `stratopt bench AREA`) are made by this class
    sub = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=Parser
    )
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


def run() -> int:
    """The `stratopt` command: main(), then the process readied to exit quickly
    (stratopt.runtime.rule.ready_to_exit: 0.3-0.4 s less for a numba command)."""
    code = main()
    from stratopt.runtime.rule import ready_to_exit

    ready_to_exit()
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run())
