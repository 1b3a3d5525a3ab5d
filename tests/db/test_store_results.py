"""The chosen portfolios go back into the database as flat tables, replaced on a rerun."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from stratopt import contracts
from stratopt.db.duckdb_backend import DuckDBDatabase
from stratopt.db.load import store_results


def _portfolios(path: Path, names: list[list[str]]) -> Path:
    """portfolios.parquet with select's columns (stratopt.contracts.PORTFOLIOS)."""
    k = len(names)
    table = pa.table(
        {
            "size": pa.array([len(n) for n in names], type=pa.int32()),
            "algorithm": ["sa", "pso"][:k],
            "fitness": [1.5, -2.0][:k],
            "best_overall": [True, False][:k],
            "guarded_fitness": [1.0, -1.0][:k],
            "flags": ["", "won on every training session (win rate 100 %)"][:k],
            "evaluations": pa.array([100] * k, type=pa.int64()),
            "indices": pa.array([list(range(len(n))) for n in names], type=pa.list_(pa.int32())),
            "names": pa.array(names, type=pa.list_(pa.string())),
            **{m: [10.0, 20.0][:k] for m in contracts.PORTFOLIO_METRICS},
        }
    ).replace_schema_metadata({b"stratopt": b"{}"})
    pq.write_table(table, path)
    return path


def test_portfolios_are_stored_and_replaced(tmp_path: Path) -> None:
    hostile = "x'); DROP TABLE portfolios; --"
    src = _portfolios(tmp_path / "p.parquet", [["A", hostile], ["B", "C", 'say "hi"']])
    db_file = tmp_path / "stratopt.duckdb"
    for _ in range(2):  # a rerun replaces, never appends
        with DuckDBDatabase(db_file) as db:
            report = store_results(src, db, tmp_path / "stored.json")
    assert report["tables"] == {"portfolios": 2, "portfolio_members": 5}
    assert json.loads((tmp_path / "stored.json").read_text())["backend"] == "duckdb"
    con = duckdb.connect(str(db_file), read_only=True)
    rows = con.sql('SELECT "size", "algorithm", "fitness" FROM "portfolios" ORDER BY 1').fetchall()
    assert rows == [(2, "sa", 1.5), (3, "pso", -2.0)]
    members = con.sql(
        'SELECT "size", "position", "strategy" FROM "portfolio_members" ORDER BY 1, 2'
    ).fetchall()
    assert members == [(2, 1, "A"), (2, 2, hostile), (3, 1, "B"), (3, 2, "C"), (3, 3, 'say "hi"')]


def test_member_table_is_the_arrow_one(tmp_path: Path) -> None:
    """Built from buffers (no pandas), the members table equals the pa.table of the same rows."""
    from stratopt.db.load import portfolio_tables

    names = [["A", "é", "x'y"], ["B"]]
    members = portfolio_tables(pq.read_table(_portfolios(tmp_path / "p.parquet", names)))[
        "portfolio_members"
    ]
    expected = pa.table(
        {
            "size": pa.array([3, 3, 3, 1], type=pa.int32()),
            "position": pa.array([1, 2, 3, 1], type=pa.int32()),
            "strategy_index": pa.array([0, 1, 2, 0], type=pa.int32()),
            "strategy": pa.array(["A", "é", "x'y", "B"], type=pa.string()),
        }
    )
    members.validate(full=True)
    assert members.equals(expected)
