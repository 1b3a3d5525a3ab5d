"""The SQL texts of the database stage, kept in stratopt/db/queries/*.sql (package data).

One text serves every engine: a portable subset (double-quoted identifiers,
explicit CASTs, SUM(CASE ...) rather than FILTER, windows nested through
WITH). Each file holds one statement; comments are kept, a trailing
semicolon is not (both clients want a bare statement).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable


def queries_dir() -> Traversable:
    return resources.files("stratopt.db").joinpath("queries")


@cache
def sql_text(name: str) -> str:
    """The statement in stratopt/db/queries/{name}.sql."""
    text = queries_dir().joinpath(f"{name}.sql").read_text(encoding="utf-8")
    return text.strip().rstrip(";").strip()


def sql_names() -> list[str]:
    """Every statement shipped with the package (for tests and docs)."""
    files = queries_dir().iterdir()
    return sorted(f.name[:-4] for f in files if f.name.endswith(".sql"))
