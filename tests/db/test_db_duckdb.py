"""The database stage on DuckDB: load, prepare, equality with the reference engine."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from stratopt.data.ingest import read_source
from stratopt.data.matrix import Matrix, read_matrix, write_matrix
from stratopt.db import DatabaseError, open_database
from stratopt.db.compute import metrics_sql, ulta_sql
from stratopt.db.duckdb_backend import DuckDBDatabase
from stratopt.db.load import load_db, load_matrix, write_back
from stratopt.db.prepare import PrepareOutputs, _filtered_matrix, prepare
from stratopt.engine import reference
from stratopt.errors import ConfigError, InputError

RTOL = 1e-9


@pytest.fixture(scope="module")
def sample(real_sample_csv) -> Matrix:
    return read_source(real_sample_csv)[0]


def _db(tmp_path) -> DuckDBDatabase:
    db = DuckDBDatabase(tmp_path / "stratopt.duckdb")
    db.connect()
    return db


def assert_metrics_equal(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.index) == list(want.index)
    for col in reference.METRIC_COLUMNS:
        np.testing.assert_allclose(got[col].to_numpy(), want[col].to_numpy(), rtol=RTOL, atol=0)


def assert_ulta_equal(db, matrix: Matrix) -> None:
    flags, report = ulta_sql(db, matrix)
    want_matrix, want_report = reference.apply_ulta(matrix)
    assert set(report["strategy"]) == set(want_report["strategy"])
    assert list(report["strategy"]) == list(want_report["strategy"])
    assert int(flags.sum()) == len(want_report)
    for col in reference.REPORT_COLUMNS[1:]:
        np.testing.assert_allclose(
            np.asarray(report[col]), want_report[col].to_numpy(), rtol=RTOL, atol=0
        )


def test_sql_metrics_and_ulta_equal_reference_on_real_sample(tmp_path, sample):
    with DuckDBDatabase(tmp_path / "s.duckdb") as db:
        load_matrix(db, sample)
        matrix = _filtered_matrix(db, None, None)
        np.testing.assert_array_equal(matrix.values, sample.values)
        assert_metrics_equal(
            metrics_sql(db, matrix.names).to_frame(matrix.names, "strategy"),
            reference.strategy_metrics(sample),
        )
        assert_ulta_equal(db, matrix)


@pytest.mark.parametrize("compute", ["sql", "numpy", "auto"])
def test_prepare_outputs_match_reference(tmp_path, sample, compute):
    write_matrix(sample, tmp_path / "matrix.parquet")
    out = PrepareOutputs.under(tmp_path)
    with DuckDBDatabase(tmp_path / "stratopt.duckdb") as db:
        load_db(tmp_path / "matrix.parquet", db, tmp_path / "load.json")
        summary = prepare(db, {"database": {"compute": compute}}, out)
    want_matrix, want_report = reference.apply_ulta(sample)
    got = read_matrix(out.prepared)
    assert got.names == want_matrix.names
    assert got.labels == want_matrix.labels
    np.testing.assert_allclose(got.values, want_matrix.values, rtol=0, atol=0)
    metrics = pd.read_parquet(out.metrics_parquet).set_index("strategy")
    # the strategies as the search sees them (inverted ones as <name>_inv, at the end) ...
    assert_metrics_equal(metrics, reference.strategy_metrics(want_matrix))
    # ... and the figures before the inversion beside them
    raw_cols = {f"raw {c}": c for c in reference.METRIC_COLUMNS}
    raw = metrics.set_index("original_strategy")[list(raw_cols)].rename(columns=raw_cols)
    assert_metrics_equal(raw, reference.strategy_metrics(sample).loc[list(raw.index)])
    assert list(metrics.index[metrics["inverted"]]) == [f"{s}_inv" for s in want_report["strategy"]]
    with DuckDBDatabase(tmp_path / "stratopt.duckdb") as db:
        stored = db.execute('SELECT COUNT(*) AS n FROM "strategy_metrics_raw"').column("n")
    assert stored[0].as_py() == sample.n_strategies
    inv = pd.read_parquet(out.inversion_parquet)
    assert list(inv["strategy"]) == list(want_report["strategy"])
    report = json.loads(out.report.read_text())
    assert report["inverted"] == len(want_report)
    expected_paths = {"sql": "sql", "numpy": "numpy"}.get(compute)
    if expected_paths:
        assert report["paths"] == {"metrics": expected_paths, "ulta": expected_paths}
    assert "why" in summary and summary["paths"]["metrics"] in ("sql", "numpy")


def test_metrics_csv_has_the_legacy_layout(tmp_path, sample, real_metrics_csv):
    write_matrix(sample, tmp_path / "matrix.parquet")
    with DuckDBDatabase(tmp_path / "stratopt.duckdb") as db:
        load_db(tmp_path / "matrix.parquet", db, tmp_path / "load.json")
        prepare(db, {"ulta": False}, PrepareOutputs.under(tmp_path))  # as the real file's run
    ours = pd.read_csv(tmp_path / "strategy_metrics.csv", index_col=0)
    legacy = pd.read_csv(real_metrics_csv, index_col=0)
    assert list(ours.columns) == list(legacy.columns)
    # the legacy prefixes the file stem; the sample's real columns have the legacy's numbers
    name = ours.index[1]
    assert name == f"{sample.labels[1]}_{sample.names[1]}"
    real = legacy.loc[[i for i in legacy.index if i.endswith("_" + sample.names[1])][0]]
    np.testing.assert_allclose(ours.iloc[1].to_numpy(), real.to_numpy(), rtol=1e-9)


def test_no_ulta_keeps_every_column(tmp_path, sample):
    out = PrepareOutputs.under(tmp_path)
    with _db(tmp_path) as db:
        load_matrix(db, sample)
        prepare(db, {"ulta": False}, out)
        assert db.execute('SELECT COUNT(*) AS n FROM "inversion"').column(0)[0].as_py() == 0
    got = read_matrix(out.prepared)
    assert got.names == sample.names
    np.testing.assert_array_equal(got.values, sample.values)
    assert json.loads(out.report.read_text())["paths"]["ulta"] == "off"


def test_date_range_filters_in_sql(tmp_path, sample):
    out = PrepareOutputs.under(tmp_path)
    config = {"date_range": {"start": "2024-03-01", "end": "2024-12-31"}, "ulta": False}
    with _db(tmp_path) as db:
        load_matrix(db, sample)
        prepare(db, config, out)
    mask = (sample.dates >= np.datetime64("2024-03-01")) & (
        sample.dates <= np.datetime64("2024-12-31")
    )
    want = sample.take_days(mask)
    got = read_matrix(out.prepared)
    assert 0 < got.n_days < sample.n_days
    np.testing.assert_array_equal(got.dates, want.dates)
    assert got.days == want.days
    np.testing.assert_array_equal(got.values, want.values)
    metrics = pd.read_parquet(out.metrics_parquet).set_index("strategy")
    assert_metrics_equal(metrics, reference.strategy_metrics(want))


def test_empty_date_range_is_a_clear_error(tmp_path, sample):
    out = PrepareOutputs.under(tmp_path)
    with _db(tmp_path) as db:
        load_matrix(db, sample)
        with pytest.raises(
            ConfigError, match=r"selects no session.*covers 2024-01-04 \.\. 2025-07-21"
        ):
            prepare(db, {"date_range": {"start": "2030-01-01"}}, out)
        with pytest.raises(ConfigError, match="is after"):
            prepare(db, {"date_range": {"start": "2025-01-01", "end": "2024-01-01"}}, out)
        with pytest.raises(ConfigError, match="not a date"):
            prepare(db, {"date_range": {"start": "yesterday"}}, out)
    assert not out.prepared.exists() and not out.report.exists()


def test_a_table_from_an_earlier_run_is_replaced_not_appended(tmp_path, sample):
    with _db(tmp_path) as db:
        load_matrix(db, sample)
        load_matrix(db, sample)
        n = db.execute('SELECT COUNT(*) AS n FROM "pnl"').column(0)[0].as_py()
        assert n == sample.n_days * sample.n_strategies
        smaller = Matrix(sample.dates, sample.days, sample.names[:3], sample.values[:, :3].copy())
        load_matrix(db, smaller)
        assert db.execute('SELECT COUNT(*) AS n FROM "strategies"').column(0)[0].as_py() == 3


def test_a_failed_replacement_leaves_the_old_table(tmp_path, sample):
    with _db(tmp_path) as db:
        load_matrix(db, sample)
        with pytest.raises(DatabaseError, match="no_such_column"):
            db.replace_table_as("pnl", 'SELECT "no_such_column" FROM "strategies"')
        n = db.execute('SELECT COUNT(*) AS n FROM "pnl"').column(0)[0].as_py()
        assert n == sample.n_days * sample.n_strategies


def test_reopened_file_keeps_the_tables(tmp_path, sample):
    with _db(tmp_path) as db:
        load_matrix(db, sample)
    with _db(tmp_path) as db:
        assert {"pnl", "strategies", "sessions"} <= set(db.tables())


def test_hostile_names_travel_as_data(tmp_path):
    """Quotes, semicolons and SQL in names never reach SQL text: nothing breaks or runs."""
    names = [
        'SENSEX 1000-1100 SL7%"; DROP TABLE "pnl"; --',
        "O'Brien; DELETE FROM strategies; --",
        'x"y',
        "SENSEX 0915-1530 SL20%TP32%",
    ]
    rng = np.random.default_rng(3)
    t = 10
    m = Matrix(
        dates=np.datetime64("2024-01-04") + np.arange(t) * np.timedelta64(7, "D"),
        days=["Thursday"] * t,
        names=names,
        values=rng.normal(0, 100, size=(t, len(names))),
        labels=["l'; --"] * len(names),
    )
    out = PrepareOutputs.under(tmp_path)
    with _db(tmp_path) as db:
        load_matrix(db, m)
        prepare(db, {"database": {"compute": "sql"}}, out)
        assert db.execute('SELECT COUNT(*) AS n FROM "pnl"').column(0)[0].as_py() == t * len(names)
        assert (
            db.execute('SELECT "name" FROM "strategies" ORDER BY "strategy_id"')
            .column(0)
            .to_pylist()
            == names
        )
    got = pd.read_parquet(out.metrics_parquet)
    want, _ = reference.apply_ulta(m)
    assert list(got["strategy"]) == want.names
    assert sorted(got["original_strategy"]) == sorted(names)
    assert_metrics_equal(got.set_index("strategy"), reference.strategy_metrics(want))
    assert read_matrix(out.prepared).names == want.names


def test_write_back_replaces_and_refuses_odd_names(tmp_path):
    table = pa.table({"size": pa.array([35, 36], pa.int32()), "fitness": [1.5, 2.5]})
    with _db(tmp_path) as db:
        write_back(db, "portfolios", table)
        write_back(db, "portfolios", table)
        assert db.execute('SELECT COUNT(*) AS n FROM "portfolios"').column(0)[0].as_py() == 2
        with pytest.raises(ConfigError, match="not a plain identifier"):
            write_back(db, 'x"; DROP TABLE "pnl', table)


def test_open_database_uses_the_registry(tmp_path):
    db = open_database({"database": {"backend": "duckdb"}}, tmp_path)
    assert isinstance(db, DuckDBDatabase)
    assert db.path == tmp_path / "stratopt.duckdb"
    with pytest.raises(ConfigError, match="no databases plugin named"):
        open_database({"database": {"backend": "oracle"}}, tmp_path)


def test_dates_out_of_order_are_refused(tmp_path):
    m = Matrix(
        dates=np.array(["2024-01-11", "2024-01-04"], dtype="datetime64[D]"),
        days=["Thursday", "Thursday"],
        names=["a"],
        values=np.ones((2, 1)),
    )
    with _db(tmp_path) as db, pytest.raises(InputError, match="strictly increasing"):
        load_matrix(db, m, "m.parquet")


def test_cli_load_and_prepare(tmp_path, sample):
    from stratopt.cli import main

    write_matrix(sample, tmp_path / "matrix.parquet")
    assert main(["db", "load", str(tmp_path / "matrix.parquet"), "--results", str(tmp_path)]) == 0
    assert main(["db", "prepare", "--results", str(tmp_path), "--end", "2024-06-30"]) == 0
    assert read_matrix(tmp_path / "prepared.parquet").dates[-1] <= np.datetime64("2024-06-30")
    assert main(["db", "prepare", "--results", str(tmp_path), "--start", "2031-01-01"]) == 2


@pytest.mark.slow
def test_equality_on_the_production_shape(tmp_path):
    from stratopt.bench.db import production_matrix

    m = production_matrix()
    assert m.shape == (82, 25_544)
    with _db(tmp_path) as db:
        load_matrix(db, m)
        matrix = _filtered_matrix(db, None, None)
        assert_metrics_equal(
            metrics_sql(db, matrix.names).to_frame(matrix.names, "strategy"),
            reference.strategy_metrics(m),
        )
        assert_ulta_equal(db, matrix)


def test_the_sql_path_gives_the_same_bytes_every_run(tmp_path, sample):
    """DuckDB's parallel SUM of doubles varied in its last bits between runs (2 threads,
    real sample: three runs, three different strategy_metrics.parquet); Database.serial."""
    write_matrix(sample, tmp_path / "matrix.parquet")
    outputs = []
    for run in range(3):
        folder = tmp_path / f"run{run}"
        out = PrepareOutputs.under(folder)
        with DuckDBDatabase(folder / "stratopt.duckdb", threads=2) as db:
            load_db(tmp_path / "matrix.parquet", db, folder / "load.json")
            prepare(db, {"database": {"compute": "sql"}}, out)
            assert db.execute("SELECT current_setting('threads') AS t").column("t")[0].as_py() == 2
        outputs.append([out.metrics_parquet.read_bytes(), out.inversion_parquet.read_bytes()])
    assert outputs[0] == outputs[1] == outputs[2]
