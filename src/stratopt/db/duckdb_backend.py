"""DuckDB, the embedded default: one database file per run, no server.

Replacement is atomic through DuckDB's transactions: the new table is
created and filled inside one transaction, so a failure leaves the old table
as it was. Arrow goes in by registering the table (zero copy) and comes out
through `to_arrow_table()` (DuckDB 2.0 removed `fetch_arrow_table`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from stratopt.db.base import Database, DatabaseError, check_table_name, create_table_ddl, quote

DB_FILENAME = "stratopt.duckdb"


class DuckDBDatabase(Database):
    name = "duckdb"

    def __init__(
        self, path: str | Path, *, threads: int | None = None, shown_as: str | Path | None = None
    ) -> None:
        self.path = Path(path)
        # the name reports give the file: a rule works in a temporary beside its output,
        # whose random name must not reach load.json or prepare.json (same run, same bytes)
        self.shown_as = Path(shown_as) if shown_as is not None else self.path
        self.threads = threads
        self._con: duckdb.DuckDBPyConnection | None = None

    @classmethod
    def from_config(cls, config: dict[str, Any], results_dir: str | Path) -> DuckDBDatabase:
        """The file `database.path` when given (a rule's output), else results_dir/stratopt.duckdb."""
        db = config.get("database") or {}
        path = db.get("path")
        return cls(
            Path(path) if path else Path(results_dir) / DB_FILENAME, shown_as=db.get("shown_as")
        )

    def connect(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = duckdb.connect(str(self.path))
        except duckdb.Error as exc:
            raise DatabaseError(f"cannot open DuckDB database {self.path}: {exc}") from exc
        self._con.execute("SET enable_progress_bar = false")
        if self.threads:
            self._con.execute(f"SET threads = {int(self.threads)}")

    @contextmanager
    def serial(self) -> Iterator[None]:
        """One thread: DuckDB adds a group's rows in per-thread partial sums that it then
        combines, so with several threads a SUM of doubles varied in its last bits from
        one run to the next (the prepare stage's SQL metrics, real sample, 2 cores)."""
        before = self.con.execute("SELECT current_setting('threads')").fetchone()
        self.con.execute("SET threads = 1")
        try:
            yield
        finally:
            self.con.execute(f"SET threads = {int(before[0]) if before else 1}")

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            raise DatabaseError(f"DuckDB database {self.path} is not connected")
        return self._con

    def execute(self, sql: str) -> pa.Table:
        try:
            relation = self.con.sql(sql)  # a relation streams Arrow without the DB-API copy
            if relation is None:
                return pa.table({})
            return relation.to_arrow_table()
        except duckdb.Error as exc:
            raise DatabaseError(f"DuckDB ({self.path}): {exc}") from exc

    def _in_transaction(self, statements: list[str], arrow: pa.Table | None = None) -> None:
        con = self.con
        view = "__stratopt_arrow_in"
        try:
            con.execute("BEGIN TRANSACTION")
            if arrow is not None:
                con.register(view, arrow)
            for stmt in statements:
                con.execute(stmt)
            con.execute("COMMIT")
        except duckdb.Error as exc:
            con.execute("ROLLBACK")
            raise DatabaseError(f"DuckDB ({self.path}): {exc}") from exc
        finally:
            if arrow is not None:
                con.unregister(view)

    def replace_table(self, name: str, table: pa.Table) -> None:
        q = quote(check_table_name(name))
        cols = ", ".join(quote(c) for c in table.column_names)
        self._in_transaction(
            [
                *self._drop_view_if_any(name),
                f"DROP TABLE IF EXISTS {q}",
                create_table_ddl(name, table.schema),
                f"INSERT INTO {q} ({cols}) SELECT {cols} FROM __stratopt_arrow_in",
            ],
            arrow=table,
        )

    def replace_table_as(self, name: str, select_sql: str) -> None:
        q = quote(check_table_name(name))
        self._in_transaction(
            [*self._drop_view_if_any(name), f"CREATE OR REPLACE TABLE {q} AS {select_sql}"]
        )

    def _drop_view_if_any(self, name: str) -> list[str]:
        rows = self.con.execute(
            "SELECT 1 FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'VIEW' AND table_name = ?",
            [name],
        ).fetchall()
        return [f"DROP VIEW {quote(name)}"] if rows else []

    def replace_view(self, name: str, select_sql: str) -> None:
        q = quote(check_table_name(name))
        drop = [f"DROP TABLE {q}"] if name in self._base_tables() else []
        self._in_transaction([*drop, f"CREATE OR REPLACE VIEW {q} AS {select_sql}"])

    def _base_tables(self) -> set[str]:
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'main' AND table_type = 'BASE TABLE'"
        ).fetchall()
        return {r[0] for r in rows}

    def tables(self) -> list[str]:
        rows = self.con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
            "ORDER BY table_name"
        ).fetchall()
        return [r[0] for r in rows]

    def describe(self) -> str:
        return f"duckdb:{self.shown_as}"
