"""The long schema: a matrix as database tables, and back.

A 25,544-column table is the wrong shape for both engines, so the matrix is
stored long: "pnl" (date, strategy_id, pnl), one row per strategy and day,
beside "strategies" (strategy_id, name, window, stop_loss, take_profit,
label; the parts parsed from the name) and "sessions" (date, day: the
weekday names as the source gave them). Strategy names live only in the
strategies table: SQL refers to strategies by id.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from stratopt.data import arrow_columns as cols
from stratopt.data.matrix import Matrix
from stratopt.data.names import parse_name
from stratopt.errors import InputError

PNL = "pnl"
STRATEGIES = "strategies"
SESSIONS = "sessions"
PARAMS = "prepare_params"
ZONE_PNL = "zone_pnl"  # zone files only: one row per (strategy, day, zone)
ZONES = "zones"  # zone files only: zone_id -> name, in sorted order

PNL_SCHEMA = pa.schema([("date", pa.date32()), ("strategy_id", pa.int32()), ("pnl", pa.float64())])
STRATEGIES_SCHEMA = pa.schema(
    [
        ("strategy_id", pa.int32()),
        ("name", pa.string()),
        ("window", pa.string()),
        ("stop_loss", pa.float64()),
        ("take_profit", pa.float64()),
        ("label", pa.string()),
    ]
)
SESSIONS_SCHEMA = pa.schema([("date", pa.date32()), ("day", pa.string())])
PARAMS_SCHEMA = pa.schema([("start_date", pa.date32()), ("end_date", pa.date32())])
ZONE_PNL_SCHEMA = pa.schema(
    [
        ("date", pa.date32()),
        ("zone_id", pa.int32()),
        ("strategy_id", pa.int32()),
        ("pnl", pa.float64()),
    ]
)
ZONES_SCHEMA = pa.schema([("zone_id", pa.int32()), ("zone", pa.string())])


def _date32(dates: np.ndarray) -> pa.Array:
    return cols.dates(dates)


def check_dates(matrix: Matrix, source: str) -> None:
    """The long schema keys days by date, so dates must be strictly increasing."""
    d = np.asarray(matrix.dates, dtype="datetime64[D]")
    bad = np.flatnonzero(np.diff(d) <= np.timedelta64(0, "D"))
    if len(bad):
        i = int(bad[0]) + 1
        raise InputError(
            source,
            f"dates must be strictly increasing: day {i} ({d[i]}) follows {d[i - 1]}",
            column="Date",
        )


def pnl_table(matrix: Matrix) -> pa.Table:
    """One row per (strategy, day), strategy-major: a contiguous copy of values.T."""
    t, n = matrix.shape
    dates = np.asarray(matrix.dates, dtype="datetime64[D]")
    return pa.Table.from_arrays(
        [
            cols.dates(np.tile(dates, n)),
            cols.numbers(np.repeat(np.arange(n, dtype=np.int32), t), np.int32),
            cols.numbers(np.ascontiguousarray(matrix.values.T).ravel(), np.float64),
        ],
        schema=PNL_SCHEMA,
    )


def strategies_table(matrix: Matrix) -> pa.Table:
    parsed = [parse_name(name) for name in matrix.names]
    return pa.Table.from_arrays(
        [
            cols.numbers(np.arange(matrix.n_strategies, dtype=np.int32), np.int32),
            cols.strings(matrix.names),
            cols.optional_strings([p.window for p in parsed]),
            cols.optional_numbers([p.stop_loss for p in parsed], np.float64),
            cols.optional_numbers([p.take_profit for p in parsed], np.float64),
            cols.strings(matrix.labels),
        ],
        schema=STRATEGIES_SCHEMA,
    )


def sessions_table(matrix: Matrix) -> pa.Table:
    return pa.Table.from_arrays(
        [_date32(matrix.dates), cols.strings(matrix.days)], schema=SESSIONS_SCHEMA
    )


def params_table(start: np.datetime64 | None, end: np.datetime64 | None) -> pa.Table:
    """The date range as data: one row, NULL for an open bound."""

    def one(d: np.datetime64 | None) -> pa.Array:
        if d is None:
            return pa.nulls(1, pa.date32())
        return _date32(np.array([d]))

    return pa.Table.from_arrays([one(start), one(end)], schema=PARAMS_SCHEMA)


def as_date_array(column: pa.ChunkedArray) -> np.ndarray:
    """A date column as datetime64[D], whatever date or timestamp type the engine returned."""
    arr = column.combine_chunks()
    if pa.types.is_timestamp(arr.type):
        arr = arr.cast(pa.timestamp("s")).cast(pa.date32())
    if arr.null_count:
        raise ValueError("a date column with a missing date")
    # days since 1970 as int32, then datetime64[D] (to_numpy would import pandas)
    days = cols.column_values(arr.cast(pa.date32()).cast(pa.int32()))
    return days.astype(np.int64).astype("datetime64[D]")


def matrix_from_long(sessions: pa.Table, pnl: pa.Table, strategies: pa.Table) -> Matrix:
    """Rebuild the T x N matrix from the long tables, in whatever row order they arrive.

    Every (strategy, day) cell must be present exactly once: a missing or
    duplicated row is an error, never a silent zero or a doubled value.
    """
    dates = as_date_array(sessions.column("date"))
    order = np.argsort(cols.column_values(strategies.column("strategy_id")))
    ids = cols.column_values(strategies.column("strategy_id"))[order]
    all_names = strategies.column("name").to_pylist()
    all_labels = strategies.column("label").to_pylist()
    names = [all_names[i] for i in order]
    labels = [all_labels[i] or "" for i in order]
    t, n = len(dates), len(ids)
    if not np.array_equal(ids, np.arange(n)):
        raise ValueError("strategy ids are not 0..N-1")
    if pnl.num_rows != t * n:
        raise ValueError(f"pnl holds {pnl.num_rows} rows for {t} days x {n} strategies")
    # one int64 index array, built in place: each temporary of N x T elements is
    # 17 MB on the production shape, and this read is the prepare stage's peak
    flat = np.searchsorted(dates, as_date_array(pnl.column("date"))).astype(np.int64, copy=False)
    flat *= n
    flat += cols.column_values(pnl.column("strategy_id"), copy=False)
    if flat.size and (flat.min() < 0 or flat.max() >= t * n):
        raise ValueError("pnl has missing or duplicated (date, strategy) rows")
    # t * n rows in range, each cell hit: then each is hit exactly once
    seen = np.zeros(t * n, dtype=bool)
    seen[flat] = True
    if not seen.all():
        raise ValueError("pnl has missing or duplicated (date, strategy) rows")
    del seen
    values = np.empty(t * n, dtype=np.float64)
    values[flat] = cols.column_values(pnl.column("pnl"), copy=False)
    days = [d or "" for d in sessions.column("day").to_pylist()]
    return Matrix(dates=dates, days=days, names=names, values=values.reshape(t, n), labels=labels)


def zone_pnl_table(dates: np.ndarray, rows: np.ndarray) -> pa.Table:
    """One row per (strategy, day, zone) of M given as S x D x Z (the matrix file's order)."""
    n, d, z = rows.shape
    days = np.asarray(dates, dtype="datetime64[D]").astype(np.int32)
    return pa.table(
        {
            "date": pa.array(np.tile(np.repeat(days, z), n), type=pa.int32()).cast(pa.date32()),
            "zone_id": pa.array(np.tile(np.arange(z, dtype=np.int32), d * n)),
            "strategy_id": pa.array(np.repeat(np.arange(n, dtype=np.int32), d * z)),
            "pnl": pa.array(np.ascontiguousarray(rows).ravel()),
        },
        schema=ZONE_PNL_SCHEMA,
    )


def zones_table(zones: list[str]) -> pa.Table:
    return pa.table(
        {"zone_id": pa.array(np.arange(len(zones), dtype=np.int32)), "zone": pa.array(zones)},
        schema=ZONES_SCHEMA,
    )


def zone_slice_from_long(dates: np.ndarray, n: int, rows: pa.Table, zone: str) -> np.ndarray:
    """One zone's D x S slice of M from its zone_pnl rows, in any order; every cell once.

    Read zone by zone, so that the rows of one zone (not all of them) are in memory.
    """
    d = len(dates)
    day = np.searchsorted(dates, as_date_array(rows.column("date"))).astype(np.int64)
    col = cols.column_values(rows.column("strategy_id")).astype(np.int64)
    if rows.num_rows != d * n:
        raise ValueError(f"zone {zone!r}: {rows.num_rows} zone_pnl rows for {d} x {n} cells")
    flat = day * n + col
    del day, col
    if np.bincount(flat, minlength=d * n).max(initial=0) != 1:
        raise ValueError(f"zone {zone!r}: missing or duplicated (date, strategy) rows")
    values = np.empty(d * n, dtype=np.float64)
    values[flat] = cols.column_values(rows.column("pnl"), copy=False)
    return values.reshape(d, n)
