"""A local stand-in for a HeavyDB server: HeavyDB's Thrift protocol, executed on DuckDB.

No HeavyDB server can run on these machines, so the HeavyDB plugin's client
code is exercised end to end against this: the real `heavyai`/`pyheavydb`
client talks binary Thrift over a TCP socket on 127.0.0.1 to a server built
from the service definitions that ship inside pyheavydb (heavydb.thrift.Heavy),
which checks credentials and sessions, runs the SQL on an in-memory DuckDB,
and answers with HeavyDB's own result structures (TQueryResult columns for
`sql_execute`, an Arrow IPC stream for `sql_execute_df`, Arrow in for
`load_table_binary_arrow`). It speaks the protocol faithfully; it does not
reproduce HeavyDB's SQL dialect or engine (docs/database.md says so).
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
from typing import Any

import duckdb
import pyarrow as pa
from heavydb.common import ttypes as C
from heavydb.thrift import Heavy
from heavydb.thrift import ttypes as T
from thrift.protocol import TBinaryProtocol
from thrift.transport import TSocket, TTransport

VERSION = "8.0.1-duckdb-standin"

_TYPES = {  # DuckDB type -> (HeavyDB datum type, encoding, comp_param)
    "INTEGER": (C.TDatumType.INT, C.TEncodingType.NONE, 0),
    "BIGINT": (C.TDatumType.BIGINT, C.TEncodingType.NONE, 0),
    "DOUBLE": (C.TDatumType.DOUBLE, C.TEncodingType.NONE, 0),
    "VARCHAR": (C.TDatumType.STR, C.TEncodingType.DICT, 32),
    "DATE": (C.TDatumType.DATE, C.TEncodingType.DATE_IN_DAYS, 32),
    "BOOLEAN": (C.TDatumType.BOOL, C.TEncodingType.NONE, 0),
}


def _error(msg: str) -> T.TDBException:
    return T.TDBException(error_msg=msg)


class StandinHandler:
    """The Heavy service's methods that the client uses, on one DuckDB database."""

    def __init__(self, user: str, password: str, dbname: str) -> None:
        self._credentials = (user, password, dbname)
        self._sessions: set[str] = set()
        self._db = duckdb.connect(":memory:")
        self._lock = threading.Lock()
        self.calls: list[str] = []  # method names, in order, for tests to inspect
        self.fail_loads: str | None = None  # fault injection: refuse Arrow loads with this message

    # -- sessions
    def connect(self, user: str, passwd: str, dbname: str) -> str:
        self.calls.append("connect")
        if (user, passwd, dbname) != self._credentials:
            raise _error(f"Invalid credentials for user {user} on database {dbname}.")
        session = secrets.token_hex(16)
        self._sessions.add(session)
        return session

    def disconnect(self, session: str) -> None:
        self.calls.append("disconnect")
        self._sessions.discard(session)

    def get_version(self) -> str:
        return VERSION

    def _check(self, session: str) -> None:
        if session not in self._sessions:
            raise _error("Session not valid.")

    # -- catalog
    def _names(self, kind: str | None) -> list[str]:
        sql = "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'"
        if kind:
            sql += f" AND table_type = '{kind}'"
        with self._lock:
            return [r[0] for r in self._db.execute(sql + " ORDER BY 1").fetchall()]

    def get_tables(self, session: str) -> list[str]:
        self._check(session)
        return self._names(None)

    def get_physical_tables(self, session: str) -> list[str]:
        self._check(session)
        return self._names("BASE TABLE")

    def get_views(self, session: str) -> list[str]:
        self._check(session)
        return self._names("VIEW")

    def get_table_details(self, session: str, table_name: str) -> T.TTableDetails:
        self._check(session)
        self.calls.append("get_table_details")
        if table_name not in self._names(None):
            raise _error(f"Table/View {table_name} for catalog heavyai does not exist.")
        with self._lock:
            cols = self._db.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position",
                [table_name],
            ).fetchall()
        row_desc = []
        for i, (name, dtype) in enumerate(cols, start=1):
            datum, enc, comp = _TYPES[dtype]
            info = C.TTypeInfo(
                type=datum, encoding=enc, nullable=True, is_array=False,
                precision=0, scale=0, comp_param=comp, size=-1,
            )  # fmt: skip
            row_desc.append(T.TColumnType(col_name=name, col_type=info, col_id=i))
        return T.TTableDetails(row_desc=row_desc, fragment_size=32000000, page_size=2097152)

    # -- SQL
    def _run(self, query: str) -> pa.Table | None:
        try:
            with self._lock:
                rel = self._db.sql(query)
                return None if rel is None else rel.to_arrow_table()
        except duckdb.Error as exc:
            raise _error(f"SQL Error: {exc}") from exc

    def sql_execute(self, session, query, column_format, nonce, first_n, at_most_n):  # noqa: ANN001, ANN201
        self._check(session)
        self.calls.append("sql_execute")
        start = time.perf_counter()
        table = self._run(query)
        row_desc, columns = ([], []) if table is None else _columnar(table)
        ms = int((time.perf_counter() - start) * 1000)
        row_set = T.TRowSet(row_desc=row_desc, rows=[], columns=columns, is_columnar=True)
        return T.TQueryResult(row_set=row_set, execution_time_ms=ms, total_time_ms=ms, nonce=nonce)

    def sql_execute_df(self, session, query, device_type, device_id, first_n, transport_method):  # noqa: ANN001, ANN201
        self._check(session)
        self.calls.append("sql_execute_df")
        if transport_method != T.TArrowTransport.WIRE:
            raise _error("this stand-in serves Arrow results over the wire only")
        table = self._run(query)
        if table is None:
            raise _error("sql_execute_df needs a query with a result set")
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        buf = sink.getvalue().to_pybytes()
        return T.TDataFrame(
            sm_handle=b"", sm_size=0, df_handle=b"", df_size=len(buf), df_buffer=buf,
            execution_time_ms=0, arrow_conversion_time_ms=0,
        )  # fmt: skip

    def sql_execute_gdf(self, session, query, device_id, first_n):  # noqa: ANN001, ANN201
        self._check(session)
        raise _error("this stand-in has no GPU")

    def deallocate_df(self, session, df, device_type, device_id):  # noqa: ANN001, ANN201
        self._check(session)

    def load_table_binary_arrow(self, session, table_name, arrow_stream, use_column_names):  # noqa: ANN001, ANN201
        self._check(session)
        self.calls.append("load_table_binary_arrow")
        data = pa.ipc.open_stream(arrow_stream).read_all()
        if self.fail_loads:
            raise _error(self.fail_loads)
        if table_name not in self._names("BASE TABLE"):
            raise _error(f"Table {table_name} does not exist.")
        try:
            with self._lock:
                self._db.register("__standin_in", data)
                try:
                    self._db.execute(f'INSERT INTO "{table_name}" SELECT * FROM __standin_in')
                finally:
                    self._db.unregister("__standin_in")
        except duckdb.Error as exc:
            raise _error(f"Loader error: {exc}") from exc


def _columnar(table: pa.Table) -> tuple[list[T.TColumnType], list[T.TColumn]]:
    """An Arrow result as HeavyDB's columnar TRowSet parts."""
    row_desc, columns = [], []
    for field, col in zip(table.schema, table.columns, strict=True):
        values = col.to_pylist()
        nulls = [v is None for v in values]
        t = field.type
        if pa.types.is_integer(t) or pa.types.is_boolean(t):
            datum = C.TDatumType.BIGINT if pa.types.is_integer(t) else C.TDatumType.BOOL
            data = T.TColumnData(int_col=[int(v or 0) for v in values])
        elif pa.types.is_floating(t):
            datum = C.TDatumType.DOUBLE
            data = T.TColumnData(real_col=[float(v) if v is not None else 0.0 for v in values])
        elif pa.types.is_date(t):
            datum = C.TDatumType.DATE
            secs = col.cast(pa.date32()).cast(pa.int32()).to_pylist()
            data = T.TColumnData(int_col=[(s or 0) * 86400 for s in secs])
        else:
            datum = C.TDatumType.STR
            data = T.TColumnData(str_col=["" if v is None else str(v) for v in values])
        info = C.TTypeInfo(type=datum, encoding=C.TEncodingType.NONE, nullable=True, is_array=False)
        row_desc.append(T.TColumnType(col_name=field.name, col_type=info))
        columns.append(T.TColumn(data=data, nulls=nulls))
    return row_desc, columns


class StandinServer:
    """The stand-in listening on 127.0.0.1 (a free port), one thread per client."""

    def __init__(self, user: str = "admin", password: str = "standin-pw", dbname: str = "heavyai"):
        self.handler = StandinHandler(user, password, dbname)
        self.user, self.password, self.dbname = user, password, dbname
        self._listen = TSocket.TServerSocket(host="127.0.0.1", port=0)
        self._listen.listen()
        self.port = self._listen.handle.getsockname()[1]
        self._processor = Heavy.Processor(self.handler)
        self._thread = threading.Thread(target=self._serve, name="heavydb-standin", daemon=True)
        self._stopped = threading.Event()

    def start(self) -> StandinServer:
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stopped.is_set():
            try:
                client = self._listen.accept()
            except (OSError, AttributeError):
                return
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def _handle(self, client: TSocket.TSocket) -> None:
        trans = TTransport.TBufferedTransport(client)
        proto = TBinaryProtocol.TBinaryProtocolAccelerated(trans)
        try:
            while True:
                self._processor.process(proto, proto)
        except (TTransport.TTransportException, OSError, EOFError):
            pass
        finally:
            trans.close()

    def stop(self) -> None:
        self._stopped.set()
        handle = self._listen.handle
        if handle is not None:
            with contextlib.suppress(OSError):
                handle.shutdown(socket.SHUT_RDWR)
        self._listen.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> StandinServer:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
