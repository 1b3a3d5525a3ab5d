"""The P&L matrix and its Parquet layout.

Layout (chosen by measurement, docs/parquet-layout.md): one row per strategy,
columns `strategy_id` (int32), `strategy` (string), `label` (string: the source
file, for balanced mode) and `pnl` (fixed-size list of T float64). The dates
and weekdays travel in the file's key-value metadata. Reading the production
shape back into a T x N float64 array is one contiguous buffer copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from stratopt.atomic import atomic_path
from stratopt.errors import InputError

META_KEY = b"stratopt"
LAYOUT_VERSION = 1
COLUMNS = ("strategy_id", "strategy", "label", "pnl")

# Arrow's default allocator (mimalloc) kept 30-50 MB more peak resident memory
# per process than the system allocator when reading the production matrix,
# with no speed gain at these sizes; every stage must stay under 500 MB.
pa.set_memory_pool(pa.system_memory_pool())


@dataclass(frozen=True)
class Matrix:
    """T days x N strategies of P&L, with the day and strategy labels.

    `values[t, i]` is strategy i's P&L on day t (float64, C-ordered T x N).
    """

    dates: np.ndarray  # datetime64[D], shape (T,)
    days: list[str]  # weekday names as given in the source ("" when absent)
    names: list[str]  # strategy names, length N
    values: np.ndarray  # float64, shape (T, N)
    labels: list[str] = field(default_factory=list)  # source label per strategy

    def __post_init__(self) -> None:
        t, n = self.values.shape
        if len(self.dates) != t or len(self.days) != t:
            raise ValueError(f"dates/days length {len(self.dates)}/{len(self.days)} != T={t}")
        if len(self.names) != n:
            raise ValueError(f"names length {len(self.names)} != N={n}")
        if not self.labels:
            object.__setattr__(self, "labels", [""] * n)
        elif len(self.labels) != n:
            raise ValueError(f"labels length {len(self.labels)} != N={n}")

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape  # type: ignore[return-value]

    @property
    def n_days(self) -> int:
        return self.values.shape[0]

    @property
    def n_strategies(self) -> int:
        return self.values.shape[1]

    def periods_per_year(self) -> float:
        """Periods a year implied by the dates (about 52 for weekly sessions)."""
        if self.n_days < 2:
            return 252.0
        span_days = (self.dates[-1] - self.dates[0]).astype("timedelta64[D]").astype(np.int64)
        if span_days <= 0:
            return 252.0
        return float((self.n_days - 1) * 365.25 / span_days)

    def take_days(self, mask: np.ndarray) -> Matrix:
        """The matrix restricted to the days where `mask` is true."""
        idx = np.flatnonzero(mask)
        return Matrix(
            dates=self.dates[idx],
            days=[self.days[i] for i in idx],
            names=list(self.names),
            values=np.ascontiguousarray(self.values[idx]),
            labels=list(self.labels),
        )


def to_arrow(matrix: Matrix, extra: dict[str, Any] | None = None) -> pa.Table:
    """The matrix as a table; `extra` adds keys to the file's metadata (what made it)."""
    t, n = matrix.shape
    flat = pa.array(np.ascontiguousarray(matrix.values.T).ravel(), type=pa.float64())
    pnl = pa.FixedSizeListArray.from_arrays(flat, t)
    meta = {
        **(extra or {}),
        "layout_version": LAYOUT_VERSION,
        "dates": [str(d) for d in matrix.dates.astype("datetime64[D]")],
        "days": list(matrix.days),
    }
    table = pa.table(
        {
            "strategy_id": pa.array(np.arange(n, dtype=np.int32)),
            "strategy": pa.array(matrix.names, type=pa.string()),
            "label": pa.array(matrix.labels, type=pa.string()),
            "pnl": pnl,
        }
    )
    return table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})


def from_arrow(table: pa.Table, source: str | Path = "<arrow>") -> Matrix:
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise InputError(source, "not a stratopt matrix (no 'stratopt' metadata)")
    meta = json.loads(raw)
    dates = np.array(meta["dates"], dtype="datetime64[D]")
    t = len(dates)
    n = table.num_rows
    pnl = table.column("pnl").combine_chunks().flatten()
    if n:
        if pnl.null_count:
            raise InputError(source, "missing values in the pnl column")
        # The buffer itself (Array.to_numpy would import pandas: 45 MB per process).
        flat = np.frombuffer(pnl.buffers()[1], dtype=np.float64)[pnl.offset : pnl.offset + len(pnl)]
        values = np.ascontiguousarray(flat.reshape(n, t).T)
    else:
        values = np.zeros((t, 0), dtype=np.float64)
    return Matrix(
        dates=dates,
        days=list(meta["days"]),
        names=table.column("strategy").to_pylist(),
        values=values,
        labels=table.column("label").to_pylist(),
    )


def write_matrix(matrix: Matrix, path: str | Path, extra: dict[str, Any] | None = None) -> None:
    """Write atomically: readers never see a half-written file."""
    with atomic_path(path) as tmp:
        pq.write_table(to_arrow(matrix, extra), tmp, compression="zstd")


def read_matrix(path: str | Path) -> Matrix:
    try:
        # ParquetFile.read, not read_table: the dataset layer costs memory and imports;
        # only the matrix's own columns (a zone file carries more: stratopt.zone_matrix).
        table = pq.ParquetFile(path).read(columns=list(COLUMNS), use_threads=False)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(path, f"cannot read Parquet: {exc}") from exc
    return from_arrow(table, path)


def read_matrix_metadata(path: str | Path) -> dict[str, Any]:
    """The file's stratopt metadata (dates, days, and what the writing stage added)."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(META_KEY)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(path, f"cannot read Parquet: {exc}") from exc
    if raw is None:
        raise InputError(path, "not a stratopt matrix (no 'stratopt' metadata)")
    return dict(json.loads(raw))
