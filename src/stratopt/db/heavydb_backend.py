"""HeavyDB through its own Python client (`heavyai` over `pyheavydb`'s Thrift API).

Connection settings come from config `database.heavydb.*` (host, port, user,
dbname, protocol); the password comes only from the environment variable
named by `database.heavydb.password_env`, so it is never in a file.

Loading is explicit DDL plus `load_table_arrow` (the client's inferred
`create_table`/`load_table` break on pandas 3 string and datetime64[us]
columns). Reading is `select_ipc` (Arrow over the wire), and `select_ipc_gpu`
into cuDF where cuDF is installed on the server's host.

HeavyDB has no transactions, so a table is replaced by loading a staging
table completely, then renaming: the old name never shows a partly loaded or
doubly appended table (between the two renames it is briefly absent).
"""

from __future__ import annotations

import os
import re
from typing import Any

import pyarrow as pa

from stratopt.db.base import Database, DatabaseError, check_table_name, create_table_ddl, quote
from stratopt.errors import ConfigError

STAGING_SUFFIX = "__stratopt_new"
RETIRED_SUFFIX = "__stratopt_old"


def _client_module() -> Any:
    try:
        import heavyai
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ConfigError(
            "database backend 'heavydb' needs the HeavyDB client: pip install 'stratopt[heavydb]'"
        ) from exc
    return heavyai


def _first_keyword(sql: str) -> str:
    """The statement's first word after any `--` comment lines (SELECT, WITH, CREATE...)."""
    body = re.sub(r"^(\s*--[^\n]*\n)*", "", sql + "\n").strip()
    return body.split(None, 1)[0].upper() if body else ""


class HeavyDBDatabase(Database):
    name = "heavydb"

    def __init__(
        self,
        *,
        host: str = "localhost",
        port: int = 6274,
        user: str = "admin",
        dbname: str = "heavyai",
        protocol: str = "binary",
        password: str | None = None,
        password_env: str = "HEAVYDB_PASSWORD",
    ) -> None:
        self.host = host
        self.port = int(port)
        self.user = user
        self.dbname = dbname
        self.protocol = protocol
        self.password_env = password_env
        self._password = password
        self._con: Any = None

    @classmethod
    def from_config(cls, config: dict[str, Any], results_dir: Any = None) -> HeavyDBDatabase:
        settings = dict((config.get("database") or {}).get("heavydb") or {})
        password_env = settings.pop("password_env", "HEAVYDB_PASSWORD")
        if "password" in settings:
            raise ConfigError(
                "database.heavydb.password is not allowed in config: put the password in "
                f"the environment variable named by database.heavydb.password_env ({password_env})"
            )
        return cls(**settings, password_env=password_env)

    def _resolve_password(self) -> str:
        if self._password is not None:
            return self._password
        value = os.environ.get(self.password_env)
        if value is None:
            raise ConfigError(
                f"HeavyDB password: environment variable {self.password_env} is not set "
                "(config database.heavydb.password_env names it)"
            )
        return value

    def describe(self) -> str:
        return (
            f"heavydb://{self.user}@{self.host}:{self.port}/{self.dbname}?protocol={self.protocol}"
        )

    def connect(self) -> None:
        heavyai = _client_module()
        from heavydb.exceptions import Error as ClientError

        password = self._resolve_password()
        where = f"HeavyDB at {self.host}:{self.port} ({self.protocol})"
        try:
            self._con = heavyai.connect(
                user=self.user,
                password=password,
                host=self.host,
                port=self.port,
                dbname=self.dbname,
                protocol=self.protocol,
            )
        except ClientError as exc:
            text = str(exc)
            if "Could not connect" in text:
                raise DatabaseError(f"{where} is unreachable: {text}") from exc
            raise DatabaseError(
                f"{where} refused user {self.user!r} on database {self.dbname!r}: {text}"
            ) from exc
        except ValueError as exc:  # the client's wording for a transport failure mid-login
            raise DatabaseError(f"{where}: connection failed: {exc}") from exc

    def close(self) -> None:
        if self._con is not None:
            try:
                self._con.close()
            finally:
                self._con = None

    @property
    def con(self) -> Any:
        if self._con is None:
            raise DatabaseError(f"{self.describe()} is not connected")
        return self._con

    def _run(self, sql: str) -> None:
        """A statement without a result set (DDL), through the DB-API cursor."""
        from heavydb.exceptions import Error as ClientError

        try:
            self.con.execute(sql)
        except ClientError as exc:
            raise DatabaseError(f"{self.describe()}: {exc}") from exc

    def execute(self, sql: str) -> pa.Table:
        from heavydb.exceptions import Error as ClientError
        from heavydb.thrift.ttypes import TDBException

        if _first_keyword(sql) not in ("SELECT", "WITH"):
            self._run(sql)
            return pa.table({})
        try:
            frame = self.con.select_ipc(sql)
        except (ClientError, TDBException) as exc:
            msg = getattr(exc, "error_msg", None) or str(exc)
            raise DatabaseError(f"{self.describe()}: {msg}") from exc
        return pa.Table.from_pandas(frame, preserve_index=False)

    def execute_gpu(self, sql: str, device_id: int = 0) -> Any:
        """The result in GPU memory as a cuDF DataFrame (HeavyDB and the GPU on this host)."""
        try:
            import cudf  # noqa: F401
        except ImportError as exc:
            raise ConfigError("select_ipc_gpu needs cuDF installed beside the client") from exc
        return self.con.select_ipc_gpu(sql, device_id=device_id)

    def tables(self) -> list[str]:
        return sorted(self.con.get_tables())

    def _swap_in(self, name: str, staging: str) -> None:
        retired = check_table_name(name[: 63 - len(RETIRED_SUFFIX)] + RETIRED_SUFFIX)
        self._run(f"DROP TABLE IF EXISTS {quote(retired)}")
        if name in self.tables():
            self._run(f"ALTER TABLE {quote(name)} RENAME TO {quote(retired)}")
        self._run(f"ALTER TABLE {quote(staging)} RENAME TO {quote(name)}")
        self._run(f"DROP TABLE IF EXISTS {quote(retired)}")

    def _staging(self, name: str) -> str:
        return check_table_name(name[: 63 - len(STAGING_SUFFIX)] + STAGING_SUFFIX)

    def replace_table(self, name: str, table: pa.Table) -> None:
        check_table_name(name)
        staging = self._staging(name)
        self._run(f"DROP TABLE IF EXISTS {quote(staging)}")
        self._run(create_table_ddl(staging, table.schema))
        if table.num_rows:
            try:
                self.con.load_table_arrow(staging, table)
            except Exception as exc:
                self._run(f"DROP TABLE IF EXISTS {quote(staging)}")
                msg = getattr(exc, "error_msg", None) or str(exc)
                raise DatabaseError(f"{self.describe()}: loading {name!r} failed: {msg}") from exc
        self._verify_rows(staging, table.num_rows)
        self._swap_in(name, staging)

    def replace_table_as(self, name: str, select_sql: str) -> None:
        check_table_name(name)
        staging = self._staging(name)
        self._run(f"DROP TABLE IF EXISTS {quote(staging)}")
        self._run(f"CREATE TABLE {quote(staging)} AS {select_sql}")
        self._swap_in(name, staging)

    def replace_view(self, name: str, select_sql: str) -> None:
        q = quote(check_table_name(name))
        if name in self.con._client.get_physical_tables(self.con._session):
            self._run(f"DROP TABLE {q}")
        self._run(f"DROP VIEW IF EXISTS {q}")
        self._run(f"CREATE VIEW {q} AS {select_sql}")

    def _verify_rows(self, table: str, expected: int) -> None:
        got = self.execute(f"SELECT COUNT(*) AS n FROM {quote(table)}").column(0)[0].as_py()
        if got != expected:
            self._run(f"DROP TABLE IF EXISTS {quote(table)}")
            raise DatabaseError(
                f"{self.describe()}: staging table {table!r} holds {got} rows, expected {expected}"
            )
