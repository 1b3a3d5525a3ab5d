"""The database stage's two ends: `load_db` (matrix.parquet -> tables) and `store_results`.

load_db replaces the tables "pnl", "strategies" and "sessions" (never
appends: a rerun leaves exactly one copy). store_results writes the select
stage's portfolios back as flat tables (replaced atomically, never appended).
The middle, `prepare`, is stratopt.db.prepare.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from stratopt import contracts
from stratopt.data import arrow_columns as cols
from stratopt.data.matrix import Matrix, check_parquet, read_matrix, read_table
from stratopt.db import schema as S
from stratopt.db.base import Database, check_table_name
from stratopt.db.zone_prepare import load_zones
from stratopt.runtime.atomic import write_json

log = logging.getLogger(__name__)


def load_matrix(db: Database, matrix: Matrix, source: str = "<matrix>") -> dict[str, int]:
    """Replace the long tables with `matrix`; returns the row count of each."""
    S.check_dates(matrix, source)
    tables = {
        S.SESSIONS: S.sessions_table(matrix),
        S.STRATEGIES: S.strategies_table(matrix),
        S.PNL: S.pnl_table(matrix),
    }
    for name, table in tables.items():
        db.replace_table(name, table)
    return {name: t.num_rows for name, t in tables.items()}


def load_db(matrix_path: str | Path, db: Database, report_path: str | Path) -> dict[str, Any]:
    """matrix.parquet -> the database's tables; load.json says what went where."""
    start = time.perf_counter()
    matrix = read_matrix(matrix_path)
    read_s = time.perf_counter() - start
    rows = load_matrix(db, matrix, str(matrix_path))
    zones = load_zones(db, matrix_path, matrix.dates)
    if zones is not None:
        rows[S.ZONE_PNL] = matrix.n_days * len(zones) * matrix.n_strategies
        rows[S.ZONES] = len(zones)
    report = {
        "database": db.describe(),
        "source": str(matrix_path),
        "days": matrix.n_days,
        "strategies": matrix.n_strategies,
        "tables": rows,
        "zones": zones,
        "first_date": str(matrix.dates[0]) if matrix.n_days else None,
        "last_date": str(matrix.dates[-1]) if matrix.n_days else None,
        "seconds": {"read": read_s, "total": time.perf_counter() - start},
    }
    write_json(report_path, contracts.LOAD.checked(report))
    log.info("loaded %d x %d into %s", matrix.n_days, matrix.n_strategies, db.describe())
    return report


# ---------------------------------------------------------------- write back


def write_back(db: Database, name: str, table: pa.Table) -> None:
    """Store a later stage's result (chosen portfolios, their metrics) as a queryable table.

    The table is replaced atomically, so rerunning a stage never appends twice.
    """
    db.replace_table(check_table_name(name), table)


def portfolio_tables(portfolios: pa.Table) -> dict[str, pa.Table]:
    """The select stage's portfolios as two flat tables both engines can store.

    `portfolios`: one row per size (winning algorithm, fitness, metrics);
    `portfolio_members`: one row per (size, position, strategy). Names travel
    as data, never as SQL text, and no list columns are needed.
    """
    flat = portfolios.drop_columns(["indices", "names"])
    sizes = portfolios.column("size").to_pylist()
    names = portfolios.column("names").to_pylist()
    indices = portfolios.column("indices").to_pylist()
    counts = [len(n) for n in names]
    members = pa.Table.from_arrays(
        [
            # from their buffers: pa.array() would import pandas (arrow_columns)
            cols.numbers(
                [s for s, c in zip(sizes, counts, strict=True) for _ in range(c)], np.int32
            ),
            cols.numbers([i + 1 for c in counts for i in range(c)], np.int32),
            cols.numbers([i for row in indices for i in row], np.int32),
            cols.strings([n for row in names for n in row]),
        ],
        names=["size", "position", "strategy_index", "strategy"],
    )
    return {"portfolios": flat, "portfolio_members": members}


def store_results(
    portfolios_path: str | Path,
    db: Database,
    report_path: str | Path,
    zones_path: str | Path | None = None,
) -> dict[str, Any]:
    """Write the chosen portfolios back into the database, replacing earlier ones.

    zones_path: the select stage's zones.json; in zone mode each portfolio's
    zones become table "portfolio_zones" (size, zone, weight, roi, contribution).
    """
    from stratopt.db.zone_prepare import portfolio_zone_table

    check_parquet(contracts.PORTFOLIOS, portfolios_path)
    tables = portfolio_tables(read_table(portfolios_path))
    zone_rows = portfolio_zone_table(zones_path)
    if zone_rows is None:
        db.execute('DROP TABLE IF EXISTS "portfolio_zones"')  # plain mode: none stays behind
    else:
        tables["portfolio_zones"] = zone_rows
    for name, table in tables.items():
        write_back(db, name, table)
    report = {
        "backend": db.name,
        "tables": {name: table.num_rows for name, table in tables.items()},
    }
    write_json(report_path, contracts.STORED.checked(report))
    return report
