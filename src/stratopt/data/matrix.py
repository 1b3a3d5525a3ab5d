"""The P&L matrix and its Parquet layout.

Layout (chosen by measurement, docs/parquet-layout.md): one row per strategy,
columns `strategy_id` (int32), `strategy` (string), `label` (string: the source
file, for balanced mode) and `pnl` (fixed-size list of T float64). The dates
and weekdays travel in the file's key-value metadata. Reading the production
shape back into a T x N float64 array is one contiguous buffer copy.

Integrity: every Parquet file stratopt writes carries page checksums (CRC32),
verified on read, so a flipped bit in a data page is an error instead of other
P&L; the key-value metadata (dates, weekdays), which the footer holds outside
any page, carries its own SHA-256. docs/ingest.md has the cost measured.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from stratopt.contracts import ContractError, Output
from stratopt.data import arrow_columns as cols
from stratopt.errors import InputError
from stratopt.runtime.atomic import atomic_path

META_KEY = b"stratopt"
#: 2: the metadata carries its own SHA-256 (version 1 files, without it, still read).
LAYOUT_VERSION = 2
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
        return self.values.shape

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
    flat = cols.numbers(np.ascontiguousarray(matrix.values.T).ravel(), np.float64)
    pnl = pa.FixedSizeListArray.from_arrays(flat, t)
    meta: dict[str, Any] = {
        **(extra or {}),
        "layout_version": LAYOUT_VERSION,
        "n_strategies": n,
        "dates": [str(d) for d in matrix.dates.astype("datetime64[D]")],
        "days": list(matrix.days),
    }
    meta["sha256"] = _meta_digest(meta)
    table = pa.Table.from_arrays(
        [
            cols.numbers(np.arange(n, dtype=np.int32), np.int32),
            cols.strings(matrix.names),
            cols.strings(matrix.labels),
            pnl,
        ],
        names=["strategy_id", "strategy", "label", "pnl"],
    )
    return table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})


def from_arrow(table: pa.Table, source: str | Path = "<arrow>") -> Matrix:
    raw = (table.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise InputError(source, "not a stratopt matrix (no 'stratopt' metadata)")
    meta = _checked_meta(raw, source)
    dates = np.array(meta["dates"], dtype="datetime64[D]")
    t = len(dates)
    n = table.num_rows
    if meta.get("n_strategies", n) != n or len(meta["days"]) != t:
        raise InputError(source, "the metadata does not match the table (corrupt file?)")
    pnl = _flat_values(table.column("pnl").combine_chunks())
    if len(pnl) != n * t:
        raise InputError(source, f"pnl holds {len(pnl)} values, not {n} x {t} (corrupt file?)")
    if n:
        if pnl.null_count:
            raise InputError(source, "missing values in the pnl column")
        flat = cols.float_values(pnl)
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


def _flat_values(lists: pa.Array) -> pa.Array:
    """The list column's values in row order: flatten() without importing pyarrow.compute.

    FixedSizeListArray.flatten imports pyarrow.compute (about 60 ms by -X importtime,
    in every job that reads a matrix); without null lists, its values sliced at the offset are
    the same array. With null lists, flatten() drops them (the length check then fails).
    """
    if lists.null_count or not pa.types.is_fixed_size_list(lists.type):
        return lists.flatten()
    size = lists.type.list_size
    return lists.values.slice(lists.offset * size, len(lists) * size)


def _meta_digest(meta: dict[str, Any]) -> str:
    body = {k: v for k, v in meta.items() if k != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def _checked_meta(raw: bytes, source: str | Path) -> dict[str, Any]:
    """The matrix metadata, refused when its digest (or its JSON) does not hold."""
    try:
        meta = json.loads(raw)
        if not isinstance(meta, dict) or not {"dates", "days"} <= meta.keys():
            raise ValueError("dates or days missing")
    except ValueError as exc:
        raise InputError(source, f"unreadable stratopt metadata ({exc}): corrupt file?") from None
    digest = meta.get("sha256")
    if digest is None and meta.get("layout_version") != 1:
        raise InputError(source, "the stratopt metadata has no checksum: corrupt file?")
    if digest is not None and digest != _meta_digest(meta):
        raise InputError(source, "the stratopt metadata fails its checksum: corrupt file")
    return meta


def write_table(table: pa.Table, path: str | Path, **options: Any) -> None:
    """A Parquet file with page checksums, written atomically (readers never see half a file)."""
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, write_page_checksum=True, **options)


def read_table(path: str | Path, columns: list[str] | None = None) -> pa.Table:
    """A Parquet file, its page checksums verified; any failure is an InputError naming it."""
    try:
        # ParquetFile.read, not read_table: the dataset layer costs memory and imports.
        with pq.ParquetFile(path, page_checksum_verification=True) as pf:
            return pf.read(columns=columns, use_threads=False)
    except (OSError, pa.ArrowException, ValueError, IndexError) as exc:
        raise InputError(path, f"cannot read Parquet: {exc}") from None


def check_parquet(output: Output, path: str | Path) -> None:
    """A stage's Parquet output against its contract, from the footer alone (ContractError)."""
    try:
        schema = pq.read_schema(path)
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise ContractError(path, f"not a readable Parquet file ({exc})") from None
    output.check_schema(schema, path)


def read_output(
    output: Output, results: str | Path, columns: list[str] | None = None, **wildcards: Any
) -> pa.Table | None:
    """The Parquet output under `results`, checked against its contract; None when absent."""
    path = output.path(results, **wildcards)
    if not path.exists():
        return None
    check_parquet(output, path)
    return read_table(path, columns)


#: Dictionary encoding for the names only: on the P&L (2.1 million doubles, nearly all
#: distinct, on the production shape) Arrow built a dictionary, gave up at its page
#: limit and wrote them plain anyway, for 46 MB more peak memory and 30 % more CPU
#: than writing them plain at once (a 2 % smaller file, too; docs/performance.md).
DICTIONARY_COLUMNS = ["strategy", "label"]


def write_matrix(matrix: Matrix, path: str | Path, extra: dict[str, Any] | None = None) -> None:
    """Write atomically: readers never see a half-written file."""
    table = to_arrow(matrix, extra)
    write_table(table, path, compression="zstd", use_dictionary=DICTIONARY_COLUMNS)


def read_matrix(path: str | Path) -> Matrix:
    table = read_table(path, columns=list(COLUMNS))  # a zone file carries more (zone_matrix)
    try:
        return from_arrow(table, path)
    except InputError:
        raise
    except (KeyError, ValueError, TypeError, IndexError, pa.ArrowException) as exc:
        raise InputError(path, f"not a readable stratopt matrix ({exc}): corrupt file?") from None


def read_matrix_metadata(path: str | Path) -> dict[str, Any]:
    """The file's stratopt metadata (dates, days, and what the writing stage added)."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(META_KEY)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputError(path, f"cannot read Parquet: {exc}") from None
    if raw is None:
        raise InputError(path, "not a stratopt matrix (no 'stratopt' metadata)")
    return _checked_meta(raw, path)


#: Strategies per batch when reading a few of them (bounds the memory held at once).
SUBSET_BATCH = 2048


def read_strategies(
    path: str | Path, indices: list[int]
) -> tuple[np.ndarray, list[str], np.ndarray]:
    """(dates, every strategy's name, the (T, k) P&L of the strategies at `indices`).

    For a reader that needs a few columns of the matrix (the report's chosen
    portfolio): the file is read batch by batch and only those rows kept, so
    the whole T x N array (17 MB, and 60-80 MB of resident memory to read it)
    is never held. The values, and their layout, are those of
    read_matrix(path).values[:, indices].
    IndexError: an index out of range; InputError: a file that does not read.
    """
    meta = read_matrix_metadata(path)
    dates = np.array(meta["dates"], dtype="datetime64[D]")
    t = len(dates)
    names = read_table(path, columns=["strategy"]).column("strategy").to_pylist()
    if any(not 0 <= i < len(names) for i in indices):
        raise IndexError(f"{path}: strategy index out of range 0..{len(names) - 1}")
    wanted = np.asarray(indices, dtype=np.int64)
    rows = np.empty((len(wanted), t), dtype=np.float64)
    try:
        with pq.ParquetFile(path, page_checksum_verification=True) as pf:
            start = 0
            for batch in pf.iter_batches(SUBSET_BATCH, columns=["pnl"], use_threads=False):
                _keep_rows(batch.column(0), start, t, wanted, rows, path)
                start += batch.num_rows
    except (OSError, pa.ArrowException, ValueError, IndexError) as exc:
        raise InputError(path, f"cannot read Parquet: {exc}") from None
    # laid out as read_matrix(path).values[:, indices] is (NumPy's fancy indexing picks the
    # layout: column-major today), so that a mean over it adds in the same order: same bits
    return dates, names, np.ascontiguousarray(rows.T)[:, np.arange(len(wanted))]


def _keep_rows(
    pnl: pa.Array, start: int, t: int, wanted: np.ndarray, rows: np.ndarray, path: str | Path
) -> None:
    """Copy the rows of this batch (strategies start.. start+len) that `wanted` names."""
    here = np.flatnonzero((wanted >= start) & (wanted < start + len(pnl)))
    if not len(here):
        return
    # the child values, not flatten(): on a batch's slice flatten imports pyarrow.compute
    child = pnl.values
    first = child.offset + pnl.offset * t
    if pnl.null_count or child.null_count or len(child) < (pnl.offset + len(pnl)) * t:
        raise InputError(path, "missing or misshapen values in the pnl column (corrupt file?)")
    values = np.frombuffer(child.buffers()[1], dtype=np.float64)[first : first + len(pnl) * t]
    rows[here] = values.reshape(len(pnl), t)[wanted[here] - start]
