"""Errors a user sees: each names the file, and where known the line and column."""

from __future__ import annotations

from pathlib import Path


class StratoptError(Exception):
    """Base class: the CLI prints these without a traceback."""


class InputError(StratoptError):
    """Bad input data, located as precisely as the reader can."""

    def __init__(
        self,
        path: str | Path,
        problem: str,
        *,
        line: int | None = None,
        column: str | None = None,
        expected: str | None = None,
    ) -> None:
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.column = column
        self.expected = expected
        where = [self.path]
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        msg = f"{', '.join(where)}: {problem}"
        if expected:
            msg += f" (expected {expected})"
        super().__init__(msg)


class ConfigError(StratoptError):
    """A configuration value that cannot be used."""
