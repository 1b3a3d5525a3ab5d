"""ULTA: how many strategies were inverted and the largest gains (prepare's inversion files)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pyarrow as pa

from stratopt import contracts as C
from stratopt.report.sections import Reader

TEXT_LIMIT = 20_000  # characters of inversion_report.md shown inline
TOP = 15  # inversions listed


def _cell(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return str(value)


def _column(table: Any, name: str) -> list[Any]:
    """A column as Python values, a missing number as NaN (as pandas read it)."""
    values = table.column(name).to_pylist()
    if pa.types.is_floating(table.schema.field(name).type):
        return [math.nan if v is None else v for v in values]
    return values


def _inversions(table: Any) -> dict[str, Any]:
    """The count, the ROI gained and the TOP largest inverted ROIs (ties in file order,
    NaN last): from Arrow directly, pandas' import cost ~0.6 s of CPU and 40 MB."""
    columns = {name: _column(table, name) for name in table.column_names}
    inv = columns["inverted_roi"]
    order = sorted(
        range(len(inv)), key=lambda k: (math.isnan(inv[k]), 0.0 if math.isnan(inv[k]) else -inv[k])
    )[:TOP]
    inverted = np.array(inv, dtype=np.float64)
    original = np.array(columns["original_roi"], dtype=np.float64)
    return {
        "count": table.num_rows,
        "roi_gain": float(np.nansum(inverted - original)),
        "columns": [str(c) for c in table.column_names],
        "rows": [[_cell(columns[c][k]) for c in table.column_names] for k in order],
    }


def collect_ulta(
    reader: Reader, config: Mapping[str, Any] | None, strategies: int | None
) -> dict[str, Any] | None:
    """`strategies`: ingest.json's count, for the share inverted."""
    parquet = C.INVERSION.path(reader.results)
    markdown = C.INVERSION_MD.path(reader.results)
    if not parquet.exists() and not markdown.exists():
        if config is not None and config.get("ulta") is False:
            return {"disabled": True}
        return None
    out: dict[str, Any] = {"disabled": False, "rows": [], "count": None, "markdown": None}
    table = reader.table(C.INVERSION)
    if table is not None:
        out.update(_inversions(table))
        if strategies:
            out["share"] = out["count"] / strategies
    if markdown.exists():
        text = markdown.read_text(encoding="utf-8", errors="replace")
        out["markdown"] = text[:TEXT_LIMIT] + ("\n... (cut)" if len(text) > TEXT_LIMIT else "")
    return out
