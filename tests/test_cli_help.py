"""Every option of every `stratopt` sub-command has a help text that shows its default."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import pytest

from stratopt.cli import Parser, build_parser

#: argparse's own: --help (and --version) have no default to show.
NO_DEFAULT = (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)


def parsers(
    parser: argparse.ArgumentParser, name: str = "stratopt"
) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    """The parser and every sub-command's parser under it, with its command line."""
    yield name, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub_name, sub in action.choices.items():
                yield from parsers(sub, f"{name} {sub_name}")


def problems(name: str, parser: argparse.ArgumentParser) -> list[str]:
    out = []
    if not isinstance(parser, Parser):
        out.append(f"{name}: not made by stratopt.cli.Parser")
    formatter = parser._get_formatter()
    for action in parser._actions:
        if isinstance(action, NO_DEFAULT):
            continue
        label = "/".join(action.option_strings) or action.dest
        if not action.help or action.help == argparse.SUPPRESS:
            out.append(f"{name} {label}: no help text")
            continue
        if not action.option_strings:
            continue  # a positional argument: given, never defaulted
        shown = formatter._expand_help(action)
        marks = shown.count("(default") + shown.count("(required)")
        if marks != 1:
            out.append(f"{name} {label}: {marks} defaults shown in {shown!r}")
    return out


ALL = list(parsers(build_parser()))


def test_every_sub_command_is_walked() -> None:
    names = {name for name, _ in ALL}
    assert {"stratopt optimize", "stratopt db prepare", "stratopt bench search"} <= names
    assert len(names) > 20


@pytest.mark.parametrize(("name", "parser"), ALL, ids=[name for name, _ in ALL])
def test_every_option_has_help_showing_its_default(
    name: str, parser: argparse.ArgumentParser
) -> None:
    assert problems(name, parser) == []


def test_a_default_is_shown_in_the_help_text() -> None:
    text = " ".join(dict(ALL)["stratopt optimize"].format_help().split())
    assert "G, the legacy's generations (default: 100)" in text
    assert "(default: guarded ratio)" in text  # --metric
    text = " ".join(dict(ALL)["stratopt correlate shard"].format_help().split())
    assert "this shard's number, 0..K-1 (required)" in text


def test_an_option_without_help_is_found() -> None:
    """The check itself: an option added without help, or with two defaults, is reported."""
    parser = Parser(prog="x")
    parser.add_argument("--bare", type=int, default=3)
    parser.add_argument("--twice", type=int, default=3, help="three (default 3) (default: 3)")
    parser.add_argument("--fine", type=int, default=3, help="three")
    assert problems("x", parser) == [
        "x --bare: no help text",
        "x --twice: 2 defaults shown in 'three (default 3) (default: 3)'",
    ]
    assert problems("y", argparse.ArgumentParser(prog="y")) == [
        "y: not made by stratopt.cli.Parser"
    ]
