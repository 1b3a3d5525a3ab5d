"""The HeavyDB plugin, end to end through the real client, against the Thrift stand-in.

No HeavyDB server runs here: `heavydb_standin` speaks HeavyDB's Thrift
protocol on 127.0.0.1 and executes on DuckDB. With HEAVYDB_URL set
(heavydb://user:password@host:port/dbname?protocol=binary) the tests marked
`real_server` run against that server instead; otherwise they skip.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import parse_qs, urlparse

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from heavydb_standin import StandinServer
from stratopt.data.ingest import read_source
from stratopt.data.matrix import read_matrix
from stratopt.db import DatabaseError, open_database
from stratopt.db.heavydb_backend import HeavyDBDatabase
from stratopt.db.load import load_matrix, write_back
from stratopt.db.prepare import PrepareOutputs, prepare
from stratopt.engine import reference
from stratopt.errors import ConfigError

PASSWORD = "s3cret-standin"


@pytest.fixture(scope="module")
def sample(real_sample_csv):
    m = read_source(real_sample_csv)[0]
    keep = list(range(0, m.n_strategies, 5))  # 100 strategies: the stand-in is a Python server
    from stratopt.data.matrix import Matrix

    return Matrix(
        m.dates, m.days, [m.names[i] for i in keep], m.values[:, keep].copy(),
        [m.labels[i] for i in keep],
    )  # fmt: skip


@pytest.fixture(scope="module")
def server():
    with StandinServer(user="analyst", password=PASSWORD, dbname="strat") as srv:
        yield srv


def _db(server, **kw) -> HeavyDBDatabase:
    args = {"host": "127.0.0.1", "port": server.port, "user": "analyst", "dbname": "strat"}
    return HeavyDBDatabase(**{**args, "password": PASSWORD, **kw})


def test_load_and_prepare_end_to_end_equal_reference(server, sample, tmp_path):
    out = PrepareOutputs.under(tmp_path)
    with _db(server) as db:
        load_matrix(db, sample)
        summary = prepare(db, {"database": {"compute": "sql"}}, out)
        assert db.execute('SELECT COUNT(*) AS n FROM "pnl"').column(0)[0].as_py() == (
            sample.n_days * sample.n_strategies
        )
    assert summary["database"].startswith("heavydb://analyst@127.0.0.1:")
    calls = set(server.handler.calls)
    # loaded through Arrow with explicit DDL, read through select_ipc (sql_execute_df)
    assert {"load_table_binary_arrow", "sql_execute_df", "sql_execute", "connect"} <= calls
    want_matrix, want_report = reference.apply_ulta(sample)
    got = read_matrix(out.prepared)
    assert got.names == want_matrix.names
    np.testing.assert_array_equal(got.values, want_matrix.values)
    metrics = pd.read_parquet(out.metrics_parquet).set_index("strategy")
    want = reference.strategy_metrics(want_matrix)  # as the search sees them (after ULTA)
    assert list(metrics.index) == list(want.index)
    for col in reference.METRIC_COLUMNS:
        np.testing.assert_allclose(metrics[col], want[col], rtol=1e-9, atol=0)
    assert list(pd.read_parquet(out.inversion_parquet)["strategy"]) == list(want_report["strategy"])


def test_password_comes_only_from_the_environment(server, monkeypatch):
    config = {
        "database": {
            "backend": "heavydb",
            "heavydb": {
                "host": "127.0.0.1",
                "port": server.port,
                "user": "analyst",
                "dbname": "strat",
                "protocol": "binary",
                "password_env": "STRATOPT_TEST_HEAVYDB_PW",
            },
        }
    }
    monkeypatch.delenv("STRATOPT_TEST_HEAVYDB_PW", raising=False)
    db = open_database(config, "unused")
    assert isinstance(db, HeavyDBDatabase)
    with pytest.raises(ConfigError, match="STRATOPT_TEST_HEAVYDB_PW is not set"):
        db.connect()
    monkeypatch.setenv("STRATOPT_TEST_HEAVYDB_PW", PASSWORD)
    with open_database(config, "unused") as db:
        assert isinstance(db.tables(), list)
    config["database"]["heavydb"]["password"] = PASSWORD
    with pytest.raises(ConfigError, match="not allowed in config"):
        open_database(config, "unused")


def test_wrong_credentials_are_a_clear_error(server):
    with pytest.raises(DatabaseError, match=r"refused user 'analyst' on database 'strat'.*nvalid"):
        _db(server, password="wrong").connect()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_server_is_a_clear_error():
    db = HeavyDBDatabase(host="127.0.0.1", port=_free_port(), password="x")
    with pytest.raises(
        DatabaseError, match=r"HeavyDB at 127\.0\.0\.1:\d+ \(binary\) is unreachable"
    ):
        db.connect()


def test_table_from_an_earlier_run_is_replaced_atomically(server, sample):
    with _db(server) as db:
        load_matrix(db, sample)
        load_matrix(db, sample)
        n = db.execute('SELECT COUNT(*) AS n FROM "pnl"').column(0)[0].as_py()
        assert n == sample.n_days * sample.n_strategies
        assert not [t for t in db.tables() if t.endswith(("__stratopt_new", "__stratopt_old"))]
        # a load the server rejects (fault injected in the stand-in's loader) leaves the
        # old table whole and no staging table behind
        server.handler.fail_loads = "Loader error: disk full"
        try:
            with pytest.raises(
                DatabaseError, match=r"loading 'sessions' failed: Loader error: disk full"
            ):
                load_matrix(db, sample)
        finally:
            server.handler.fail_loads = None
        assert db.execute('SELECT COUNT(*) AS n FROM "pnl"').column(0)[0].as_py() == n
        assert not [t for t in db.tables() if t.endswith("__stratopt_new")]


def test_write_back_through_the_client(server):
    table = pa.table({"size": pa.array([35, 36], pa.int32()), "fitness": [1.5, 2.5]})
    with _db(server) as db:
        write_back(db, "portfolios", table)
        write_back(db, "portfolios", table)
        got = db.execute('SELECT * FROM "portfolios" ORDER BY "size"')
    assert got.column("fitness").to_pylist() == [1.5, 2.5]


def test_gpu_read_needs_cudf(server):
    try:
        import cudf  # noqa: F401
    except ImportError:
        with _db(server) as db, pytest.raises(ConfigError, match="cuDF"):
            db.execute_gpu('SELECT 1 AS "x"')
    else:  # pragma: no cover - a GPU host with cuDF
        pytest.skip("cuDF present: select_ipc_gpu needs a real HeavyDB on this host")


# ---------------------------------------------------------------- a real server


def _real() -> HeavyDBDatabase:
    url = os.environ.get("HEAVYDB_URL")
    if not url:
        pytest.skip("HEAVYDB_URL is not set: no real HeavyDB server to test against")
    u = urlparse(url)
    return HeavyDBDatabase(
        host=u.hostname or "localhost",
        port=u.port or 6274,
        user=u.username or "admin",
        dbname=(u.path or "/heavyai").lstrip("/") or "heavyai",
        protocol=parse_qs(u.query).get("protocol", ["binary"])[0],
        password=u.password or "",
    )


def test_real_server_load_prepare_equal_reference(sample, tmp_path):
    db = _real()
    out = PrepareOutputs.under(tmp_path)
    with db:
        load_matrix(db, sample)
        load_matrix(db, sample)  # replaced, not appended
        prepare(db, {"database": {"compute": "sql"}}, out)
    want_matrix, _ = reference.apply_ulta(sample)
    metrics = pd.read_parquet(out.metrics_parquet).set_index("strategy")
    want = reference.strategy_metrics(want_matrix)  # as the search sees them (after ULTA)
    for col in reference.METRIC_COLUMNS:
        np.testing.assert_allclose(metrics[col], want[col], rtol=1e-9, atol=0)
    assert read_matrix(out.prepared).names == want_matrix.names


def test_real_server_wrong_password():
    db = _real()
    db._password = (db._password or "") + "-wrong"
    with pytest.raises(DatabaseError, match="refused"):
        db.connect()
