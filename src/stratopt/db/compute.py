"""The prepare stage's computations, each in SQL and in NumPy, with the same results.

SQL: the texts in stratopt/db/queries, run by whichever engine is configured, over
the date-filtered table "pnl_filtered". NumPy: stratopt.engine.strategy_metrics and
stratopt.engine.ulta over the matrix read back from it. `stratopt bench db` times
both; FASTER records which one won there, and the default ("auto") takes it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from stratopt.data.arrow_columns import column_values, masked, numbers, strings
from stratopt.data.columns import Columns
from stratopt.data.matrix import Matrix
from stratopt.db.base import Database, check_table_name, quote
from stratopt.db.paths import COMPUTATIONS, FASTER, PATHS
from stratopt.db.sql import sql_text
from stratopt.engine.reference import METRIC_COLUMNS, REPORT_COLUMNS
from stratopt.engine.ulta import inverted_names
from stratopt.errors import ConfigError

METRICS_TABLE = "strategy_metrics"  # the series as the search sees them (after ULTA)
RAW_METRICS_TABLE = "strategy_metrics_raw"  # the same figures before ULTA
ULTA_TABLE = "ulta"
INVERSION_TABLE = "inversion"
FILTERED_TABLE = "pnl_filtered"
FLAGS_TABLE = "ulta_flags"  # strategy_id, inverted (0/1): every strategy, ULTA on or off
PREPARED_VIEW = "pnl_prepared"  # pnl_filtered with the inverted series negated
METRICS_INPUT = "metrics_input"  # the view metrics.sql reads

_SQL_METRIC_COLUMNS = {
    "roi": "ROI",
    "max_drawdown": "Max Drawdown",
    "win_percentage": "Win Percentage",
    "profit_factor": "Profit Factor",
    "expectancy": "Expectancy",
}


def choose_paths(compute: str) -> dict[str, str]:
    """Which path each computation takes: "auto" (the measured faster one), "sql" or "numpy"."""
    if compute == "auto":
        return dict(FASTER)
    if compute in PATHS:
        return dict.fromkeys(COMPUTATIONS, compute)
    raise ConfigError(f"database.compute must be auto, sql or numpy, got {compute!r}")


def _float(column: pa.ChunkedArray, null_as: float) -> np.ndarray:
    """A DOUBLE column as float64; NULL (the SQL texts' "infinite") and NaN become `null_as`."""
    out = column_values(column).astype(np.float64)  # NULL -> NaN
    if not np.isnan(null_as):
        out[np.isnan(out)] = null_as
    return out


def _by_id(table: pa.Table, n: int) -> np.ndarray:
    """The row order that puts strategy ids 0..n-1 in place."""
    ids = column_values(table.column("strategy_id")).astype(np.int64)
    if len(ids) != n or not np.array_equal(np.sort(ids), np.arange(n)):
        raise ValueError(f"expected one row per strategy id 0..{n - 1}, got {len(ids)} rows")
    return np.argsort(ids)


def metrics_sql(
    db: Database, names: list[str], source: str = FILTERED_TABLE, table_name: str = METRICS_TABLE
) -> Columns:
    """The metrics in SQL of the series in table or view `source`, kept as table
    `table_name` (one row per strategy id) and returned as the legacy columns (id order;
    `.to_frame(names)` for the legacy frame)."""
    db.replace_view(METRICS_INPUT, f'SELECT "strategy_id", "date", "pnl" FROM {quote(source)}')
    with db.serial():  # the same sums, in the same order, every run
        db.replace_table_as(check_table_name(table_name), sql_text("metrics"))
    table = db.execute(f"SELECT * FROM {quote(table_name)}")
    order = _by_id(table, len(names))
    data = {
        legacy: _float(table.column(col), np.inf if col == "profit_factor" else np.nan)[order]
        for col, legacy in _SQL_METRIC_COLUMNS.items()
    }
    return Columns(data, METRIC_COLUMNS)


def metrics_numpy(
    db: Database,
    matrix: Matrix,
    table_name: str = METRICS_TABLE,
    ids: np.ndarray | None = None,
) -> Columns:
    """The metrics in NumPy, stored back as table `table_name` (NULL = infinite).

    `ids`: the database's strategy id of each column (default 0..N-1: the
    columns in load order); the frame keeps the matrix's column order.
    """
    from stratopt.engine.strategy_metrics import metrics_columns

    columns = metrics_columns(matrix)
    db.replace_table(table_name, metrics_arrow(columns, ids))
    return columns


def metrics_arrow(frame: Columns, ids: np.ndarray | None = None) -> pa.Table:
    """The metrics table's layout: strategy_id and the five metrics, NULL for infinite."""
    ids = np.arange(len(frame)) if ids is None else np.asarray(ids)
    cols = {"strategy_id": numbers(ids, np.int32)}
    for col, legacy in _SQL_METRIC_COLUMNS.items():
        v = np.asarray(frame[legacy], dtype=np.float64)
        cols[col] = masked(v, np.isfinite(v))
    return pa.table(cols)


def ulta_sql(db: Database, matrix: Matrix) -> tuple[np.ndarray, Columns]:
    """The ULTA decisions in SQL (tables "ulta" and "inversion"): flags per id and the report."""
    with db.serial():  # the same sums, in the same order, every run
        db.replace_table_as(ULTA_TABLE, sql_text("ulta"))
        db.replace_table_as(INVERSION_TABLE, sql_text("inversion"))
    decisions = db.execute(f'SELECT "strategy_id", "inverted" FROM "{ULTA_TABLE}"')
    order = _by_id(decisions, matrix.n_strategies)
    flags = column_values(decisions.column("inverted"))[order].astype(bool)
    inv = db.execute(f'SELECT * FROM "{INVERSION_TABLE}" ORDER BY "strategy_id"')
    report = Columns(
        {
            "strategy": [str(s) for s in inv.column("strategy").to_pylist()],
            **{
                c: _float(inv.column(c), np.inf if c.endswith("ratio") else np.nan)
                for c in REPORT_COLUMNS[1:]
            },
        },
        REPORT_COLUMNS,
    )
    return flags, report


def ulta_numpy(db: Database, matrix: Matrix) -> tuple[np.ndarray, Columns]:
    """The ULTA decisions in NumPy; the report is stored back as table "inversion"."""
    from stratopt.engine.ulta import inversion_decisions

    d = inversion_decisions(matrix.values)
    flags = np.asarray(d["invert"], dtype=bool)
    idx = np.flatnonzero(flags)
    report = Columns(
        {
            "strategy": [matrix.names[i] for i in idx],
            "original_roi": d["roi"][idx],
            "inverted_roi": d["inv_roi"][idx],
            "original_worst_day": d["worst"][idx],
            "inverted_worst_day": d["inv_worst"][idx],
            "original_ratio": d["ratio"][idx],
            "inverted_ratio": d["inv_ratio"][idx],
        },
        REPORT_COLUMNS,
    )
    db.replace_table(INVERSION_TABLE, inversion_arrow(report, idx))
    return flags, report


def inversion_arrow(report: Columns, ids: np.ndarray) -> pa.Table:
    """The inversion table's layout (NULL for an infinite ratio, as the SQL text gives)."""
    cols: dict[str, pa.Array] = {
        "strategy_id": numbers(ids, np.int32),
        "strategy": strings([str(s) for s in report["strategy"]]),
    }
    for c in REPORT_COLUMNS[1:]:
        v = np.asarray(report[c], dtype=np.float64)
        cols[c] = masked(v, np.isfinite(v))
    return pa.table(cols)


def flags_arrow(flags: np.ndarray) -> pa.Table:
    """The ULTA flags table: every strategy id with 1 where it was inverted."""
    return pa.table(
        {
            "strategy_id": numbers(np.arange(len(flags)), np.int32),
            "inverted": numbers(flags, np.int32),
        }
    )


def prepared_order(flags: np.ndarray) -> np.ndarray:
    """The prepared matrix's column order: the kept strategies, then the inverted ones."""
    flags = np.asarray(flags, dtype=bool)
    return np.concatenate([np.flatnonzero(~flags), np.flatnonzero(flags)])


def invert_columns(matrix: Matrix, flags: np.ndarray, source: str = "the matrix") -> Matrix:
    """Negate the flagged columns, rename them "<name>_inv", move them to the end in order."""
    kept = np.flatnonzero(~flags)
    inverted = np.flatnonzero(flags)
    order = np.concatenate([kept, inverted])
    values = np.take(matrix.values, order, axis=1)
    values[:, len(kept) :] *= -1.0
    return Matrix(
        dates=matrix.dates,
        days=list(matrix.days),
        names=inverted_names(matrix.names, kept, inverted, source),
        values=np.ascontiguousarray(values),
        labels=[matrix.labels[i] for i in order],
    )
