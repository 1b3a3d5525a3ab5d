"""The database plugin interface: what every engine must do for the pipeline.

An engine is a class registered in the `stratopt.databases` entry-point group
(docs/plugins.md). The pipeline only ever asks it to connect, create or
replace a table from Arrow (atomically: readers see the old table or the new
one, never a half-loaded or twice-appended one), run SQL and hand the result
back as Arrow, and close. Everything else (the schema, the SQL texts) is
shared, so one SQL text serves every engine.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from stratopt.errors import ConfigError, StratoptError

_TABLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class DatabaseError(StratoptError):
    """The database refused or failed: unreachable, bad credentials, bad SQL."""


def check_table_name(name: str) -> str:
    """Table names are identifiers we choose; anything else is refused, never escaped."""
    if not _TABLE_NAME.match(name):
        raise ConfigError(
            f"table name {name!r} is not a plain identifier "
            "(letters, digits and underscores, starting with a letter or underscore)"
        )
    return name


def quote(identifier: str) -> str:
    """A double-quoted SQL identifier (the portable quoting both engines accept)."""
    return '"' + identifier.replace('"', '""') + '"'


class Database(ABC):
    """One connection to one database; a context manager that closes itself."""

    #: the entry-point name ("duckdb", "heavydb")
    name: str = ""

    @classmethod
    @abstractmethod
    def from_config(cls, config: dict[str, Any], results_dir: str | Path) -> Database:
        """Build (not yet connect) from the pipeline config and the run's results folder."""

    @abstractmethod
    def connect(self) -> None:
        """Open the connection; raise DatabaseError with the reason when it cannot."""

    @abstractmethod
    def close(self) -> None:
        """Release the connection (idempotent)."""

    @abstractmethod
    def execute(self, sql: str) -> pa.Table:
        """Run one statement and return its result as an Arrow table (empty for DDL)."""

    @abstractmethod
    def replace_table(self, name: str, table: pa.Table) -> None:
        """Create or replace table `name` with exactly the rows of `table`, atomically."""

    @abstractmethod
    def replace_table_as(self, name: str, select_sql: str) -> None:
        """Create or replace table `name` from a SELECT, atomically."""

    @abstractmethod
    def replace_view(self, name: str, select_sql: str) -> None:
        """Create or replace view `name` (a named query: nothing is copied)."""

    @abstractmethod
    def tables(self) -> list[str]:
        """Names of the tables that exist now."""

    @contextmanager
    def serial(self) -> Iterator[None]:
        """Statements whose floating-point sums must not depend on how the engine splits
        the rows between its threads (same data, same bits). Engines that cannot pin
        themselves to one thread run the statements as they are."""
        yield

    def load(self, name: str, table: pa.Table) -> None:
        """Load an Arrow table under `name`; an existing table of that name is replaced."""
        self.replace_table(name, table)

    def describe(self) -> str:
        """Where the data lives, for reports (never a password)."""
        return self.name

    def __enter__(self) -> Database:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def sql_type(arrow_type: pa.DataType) -> str:
    """The SQL column type both engines understand for an Arrow type."""
    if pa.types.is_int32(arrow_type) or pa.types.is_int16(arrow_type):
        return "INTEGER"
    if pa.types.is_int64(arrow_type):
        return "BIGINT"
    if pa.types.is_float64(arrow_type) or pa.types.is_float32(arrow_type):
        return "DOUBLE"
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_date32(arrow_type):
        return "DATE"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return "TEXT"
    raise ConfigError(f"no SQL column type for Arrow type {arrow_type}")


def create_table_ddl(name: str, schema: pa.Schema) -> str:
    """Explicit DDL for an Arrow schema (no type inference by either client)."""
    cols = ", ".join(f"{quote(f.name)} {sql_type(f.type)}" for f in schema)
    return f"CREATE TABLE {quote(check_table_name(name))} ({cols})"
