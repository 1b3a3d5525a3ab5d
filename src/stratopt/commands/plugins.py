"""`stratopt plugins`: what each plugin registry holds on this installation."""

from __future__ import annotations

import argparse

from stratopt.registry import GROUPS, available


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("plugins", help="list the installed plugins of every registry")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    for kind in GROUPS:
        print(f"{kind}:")
        for name, ep in sorted(available(kind).items()):
            dist = ep.dist.name if ep.dist else "?"
            print(f"  {name:<16} {ep.value}  ({dist})")
    return 0
