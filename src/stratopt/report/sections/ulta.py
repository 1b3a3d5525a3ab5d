"""ULTA: how many strategies were inverted and the largest gains (prepare's inversion files)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

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
        frame = table.to_pandas()
        out["count"] = len(frame)
        out["roi_gain"] = float((frame["inverted_roi"] - frame["original_roi"]).sum())
        top = frame.sort_values("inverted_roi", ascending=False, kind="stable").head(TOP)
        out["columns"] = [str(c) for c in top.columns]
        out["rows"] = [[_cell(v) for v in rec] for rec in top.itertuples(index=False)]
        if strategies:
            out["share"] = out["count"] / strategies
    if markdown.exists():
        text = markdown.read_text(encoding="utf-8", errors="replace")
        out["markdown"] = text[:TEXT_LIMIT] + ("\n... (cut)" if len(text) > TEXT_LIMIT else "")
    return out
