"""The zone dimension in the matrix files (docs/zones.md).

A zone file's P&L is M[d, z, s]: date d, zone z (sorted names), strategy s.
It travels in the same Parquet files as the plain matrix (stratopt.data.matrix),
as one more column, so that every stage that only wants days x strategies
reads the file as before:
- `pnl`: the plain matrix, D values per strategy. In matrix.parquet (ingest)
  the day's total over the kept zones; in prepared.parquet (prepare, zone
  mode) the zone-weighted series X[d, s] = sum_z w_z M[d, z, s] the search uses,
  ULTA-inverted like everything else there.
- `zone_pnl`: D x Z values per strategy, date-major (index d * Z + z).
- metadata: `zones` (the names, in the order of the z axis) and, in
  prepared.parquet, `zone_weights` (normalised) and `zone_mode: true`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from stratopt.data.matrix import (
    DICTIONARY_COLUMNS,
    Matrix,
    read_matrix_metadata,
    to_arrow,
    write_table,
)
from stratopt.data.zones import ZoneData
from stratopt.errors import InputError

ZONE_COLUMN = "zone_pnl"


def zone_table(
    matrix: Matrix,
    zones: Sequence[str],
    values: np.ndarray,
    extra: dict[str, Any] | None = None,
    by_strategy: bool = False,
) -> pa.Table:
    """The matrix's table with the `zone_pnl` column and the zone names in its metadata.

    values: M as D x Z x S, or (by_strategy) as S x D x Z, the file's own order,
    which is stored without a copy when contiguous.
    """
    rows = values if by_strategy else values.transpose(2, 0, 1)
    s, d, z = rows.shape
    if (d, s) != matrix.shape or z != len(zones):
        raise ValueError(f"zone values {values.shape} do not fit {matrix.shape} and {len(zones)}")
    table = to_arrow(matrix, {**(extra or {}), "zones": list(zones)})
    flat = pa.array(np.ascontiguousarray(rows).ravel(), type=pa.float64())
    column = pa.FixedSizeListArray.from_arrays(flat, d * z)
    return table.append_column(ZONE_COLUMN, column)


def write_zone_matrix(
    matrix: Matrix,
    zones: Sequence[str],
    values: np.ndarray,
    path: str | Path,
    extra: dict[str, Any] | None = None,
    by_strategy: bool = False,
) -> None:
    """Write atomically (values: D x Z x S float64, or S x D x Z with by_strategy)."""
    table = zone_table(matrix, zones, values, extra, by_strategy)
    # page checksums as every matrix file; no dictionary for the P&L (stratopt.data.matrix)
    write_table(table, path, compression="zstd", use_dictionary=DICTIONARY_COLUMNS)


def zones_in(path: str | Path) -> list[str] | None:
    """The zone names a matrix file carries, or None for a plain matrix (metadata only)."""
    zones = read_matrix_metadata(path).get("zones")
    return None if zones is None else [str(z) for z in zones]


def read_zone_rows(path: str | Path) -> tuple[list[str], np.ndarray] | None:
    """(zone names, M as S x D x Z: the file's order, no copy), or None without zones."""
    meta = read_matrix_metadata(path)
    if meta.get("zones") is None:
        return None
    zones = [str(z) for z in meta["zones"]]
    d, z = len(meta["dates"]), len(zones)
    try:
        with pq.ParquetFile(path, page_checksum_verification=True) as pf:
            column = pf.read(columns=[ZONE_COLUMN], use_threads=False).column(0)
    except (OSError, KeyError, pa.ArrowInvalid) as exc:
        raise InputError(
            path, f"zone metadata but no readable {ZONE_COLUMN} column: {exc}"
        ) from exc
    flat = column.combine_chunks().flatten()
    if flat.null_count:
        raise InputError(path, f"missing values in the {ZONE_COLUMN} column")
    values = np.frombuffer(flat.buffers()[1], dtype=np.float64)[
        flat.offset : flat.offset + len(flat)
    ]
    s = len(values) // (d * z) if d * z else 0
    return zones, values.reshape(s, d, z)


def read_zone_values(path: str | Path) -> tuple[list[str], np.ndarray] | None:
    """(zone names, M as D x Z x S float64), or None when the file has no zones."""
    found = read_zone_rows(path)
    if found is None:
        return None
    zones, rows = found
    return zones, np.ascontiguousarray(rows.transpose(1, 2, 0))


def read_zone_data(path: str | Path) -> ZoneData | None:
    """A prepared matrix's zones as the engine's ZoneData (weights as prepare normalised them)."""
    found = read_zone_values(path)
    meta = read_matrix_metadata(path)
    if found is None or not meta.get("zone_mode"):
        return None
    zones, values = found
    names = pq.ParquetFile(path).read(columns=["strategy"]).column(0).to_pylist()
    return ZoneData(
        dates=np.array(meta["dates"], dtype="datetime64[D]"),
        zones=zones,
        names=names,
        values=values,
        weights=np.asarray(meta["zone_weights"], dtype=np.float64),
    )
