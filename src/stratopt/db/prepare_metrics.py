"""The prepare stage's per-strategy metrics: as the search sees them, and the raw figures.

Like the legacy, strategy_metrics lists the strategies in the prepared
matrix's order (the kept ones, then the ULTA-inverted ones as `<name>_inv`)
with the metrics of the series the search uses: an inverted strategy's
figures are those of its negated series. The figures before the inversion
stay available: in the Parquet file as `raw <metric>` columns, in the
database as table "strategy_metrics_raw" (docs/database.md).

Both views are computed by the path `database.compute` chose: NumPy over the
matrices, or SQL over the views "pnl_prepared" (pnl_filtered with the
inverted series negated) and "pnl_filtered".
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from stratopt.data.arrow_columns import booleans, numbers, optional_strings, strings
from stratopt.data.columns import Columns
from stratopt.data.matrix import Matrix, write_table
from stratopt.db.base import Database
from stratopt.db.compute import (
    FILTERED_TABLE,
    METRICS_TABLE,
    PREPARED_VIEW,
    RAW_METRICS_TABLE,
    metrics_numpy,
    metrics_sql,
)
from stratopt.db.sql import sql_text
from stratopt.engine.reference import METRIC_COLUMNS
from stratopt.legacy.metrics_csv import write_metrics_csv
from stratopt.legacy.names import legacy_names

RAW_PREFIX = "raw "


@dataclass(frozen=True)
class StrategyMetrics:
    """Both views, one row per strategy in the prepared order."""

    prepared: Matrix  # the search's matrix (names with `_inv`)
    original_ids: np.ndarray  # load-order id of each prepared column
    inverted: np.ndarray  # bool per prepared column
    searched: Columns  # METRIC_COLUMNS of the series as searched
    raw: Columns  # METRIC_COLUMNS before the inversion


def strategy_metrics(
    db: Database, raw: Matrix, prepared: Matrix, order: np.ndarray, flags: np.ndarray, path: str
) -> StrategyMetrics:
    """Both views by `path` ("sql" or "numpy"); `order` = prepared column -> raw column.

    The SQL path needs table "ulta_flags" (compute.flags_arrow) in place.
    """
    inverted = np.asarray(flags, dtype=bool)[order]
    if path == "sql":
        db.replace_view(PREPARED_VIEW, sql_text("prepared_pnl"))
        searched = metrics_sql(db, raw.names, PREPARED_VIEW, METRICS_TABLE).take(order)
        if inverted.any():
            raw_frame = metrics_sql(db, raw.names, FILTERED_TABLE, RAW_METRICS_TABLE).take(order)
        else:
            db.replace_table_as(RAW_METRICS_TABLE, f'SELECT * FROM "{METRICS_TABLE}"')
            raw_frame = searched
    else:
        searched = metrics_numpy(db, prepared, METRICS_TABLE, ids=order)
        if inverted.any():
            raw_frame = metrics_numpy(db, raw, RAW_METRICS_TABLE).take(order)
        else:
            db.replace_table_as(RAW_METRICS_TABLE, f'SELECT * FROM "{METRICS_TABLE}"')
            raw_frame = searched
    return StrategyMetrics(prepared, np.asarray(order), inverted, searched, raw_frame)


def metrics_table(m: StrategyMetrics) -> pa.Table:
    """strategy_metrics.parquet: clean names, the searched figures and the raw ones."""
    n = m.prepared.n_strategies
    originals = [
        name[: -len("_inv")] if inv else name
        for name, inv in zip(m.prepared.names, m.inverted, strict=True)
    ]
    return pa.table(
        {
            "strategy_id": numbers(np.arange(n), np.int32),
            "strategy": strings(m.prepared.names),
            "original_strategy": strings(originals),
            "original_id": numbers(m.original_ids, np.int32),
            "inverted": booleans(m.inverted),
            "label": optional_strings(m.prepared.labels),
            **{c: numbers(np.asarray(m.searched[c]), np.float64) for c in METRIC_COLUMNS},
            **{
                f"{RAW_PREFIX}{c}": numbers(np.asarray(m.raw[c]), np.float64)
                for c in METRIC_COLUMNS
            },
        }
    )


def write_metrics(m: StrategyMetrics, csv_path: Path, parquet_path: Path) -> None:
    """strategy_metrics.csv in the legacy layout and strategy_metrics.parquet, atomically."""
    write_metrics_csv(
        csv_path,
        legacy_names(m.prepared.names, m.prepared.labels),
        np.column_stack([np.asarray(m.searched[c], dtype=np.float64) for c in METRIC_COLUMNS]),
    )
    write_table(metrics_table(m), parquet_path)  # with page checksums
