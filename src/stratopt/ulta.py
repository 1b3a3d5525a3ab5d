"""ULTA inversion of every strategy at once, and its report (Markdown + Parquet).

Same decisions and numbers as reference.apply_ulta: a strategy with
ratio = sum(r) / |min(r)| < 0 is inverted when the inverted series' ratio is
larger (in effect: every strategy with a negative total). Inverted columns are
negated, renamed "<name>_inv" and moved to the end in their original order.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy
import pyarrow as pa
import pyarrow.parquet as pq

from stratopt.atomic import atomic_path, write_text
from stratopt.backend import to_numpy
from stratopt.matrix import Matrix
from stratopt.reference import REPORT_COLUMNS

if TYPE_CHECKING:  # pandas only where a report is built: the decisions alone never need it
    import pandas as pd


def _ratio(roi: Any, worst: Any, xp: ModuleType) -> Any:
    """roi / |worst|, inf where worst == 0 (the legacy's rule, whatever the sign of roi)."""
    mag = xp.abs(worst)
    return xp.where(mag != 0, roi / xp.where(mag != 0, mag, 1.0), xp.inf)


def inversion_decisions(values: Any, xp: ModuleType = numpy) -> dict[str, Any]:
    """Per strategy: roi, worst day, ratio, their inverted counterparts, and `invert` (bool)."""
    x = xp.asarray(values, dtype=xp.float64)
    roi = x.sum(axis=0)
    worst = x.min(axis=0)
    ratio = _ratio(roi, worst, xp)
    inv_roi = (-x).sum(axis=0)
    inv_worst = -x.max(axis=0)
    inv_ratio = _ratio(inv_roi, inv_worst, xp)
    invert = (ratio < 0) & (inv_ratio > ratio)
    return {
        "roi": roi,
        "worst": worst,
        "ratio": ratio,
        "inv_roi": inv_roi,
        "inv_worst": inv_worst,
        "inv_ratio": inv_ratio,
        "invert": invert,
    }


def apply_ulta(matrix: Matrix, xp: ModuleType = numpy) -> tuple[Matrix, pd.DataFrame]:
    """The inverted matrix and the inversion report (columns reference.REPORT_COLUMNS)."""
    import pandas as pd

    d = {k: numpy.asarray(to_numpy(v)) for k, v in inversion_decisions(matrix.values, xp).items()}
    invert = d["invert"].astype(bool)
    kept = numpy.flatnonzero(~invert)
    inverted = numpy.flatnonzero(invert)
    order = numpy.concatenate([kept, inverted])
    values = numpy.take(matrix.values, order, axis=1)
    values[:, len(kept) :] *= -1.0
    names = numpy.asarray(matrix.names, dtype=object)
    out = Matrix(
        dates=matrix.dates,
        days=list(matrix.days),
        names=list(names[kept]) + [f"{n}_inv" for n in names[inverted]],
        values=numpy.ascontiguousarray(values),
        labels=[matrix.labels[i] for i in order],
    )
    report = pd.DataFrame(
        {
            "strategy": pd.array(list(names[inverted]), dtype=object),
            "original_roi": d["roi"][inverted],
            "inverted_roi": d["inv_roi"][inverted],
            "original_worst_day": d["worst"][inverted],
            "inverted_worst_day": d["inv_worst"][inverted],
            "original_ratio": d["ratio"][inverted],
            "inverted_ratio": d["inv_ratio"][inverted],
        },
        columns=REPORT_COLUMNS,
    )
    return out, report


def _fmt(x: float) -> str:
    return f"{x:,.2f}" if numpy.isfinite(x) else ("inf" if x > 0 else "-inf")


def inversion_markdown(report: pd.DataFrame) -> str:
    """The legacy's inversion report content as a Markdown table."""
    lines = [
        "# ULTA inversion report",
        "",
        f"{len(report)} strategies inverted (ratio = ROI / |worst day|).",
        "",
        "| strategy | original ROI | inverted ROI | original worst day | inverted worst day "
        "| original ratio | inverted ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in report.itertuples(index=False):
        cells = [str(row.strategy).replace("|", "\\|")] + [
            _fmt(float(getattr(row, c))) for c in REPORT_COLUMNS[1:]
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_inversion_report(
    report_df: pd.DataFrame, md_path: str | Path, parquet_path: str | Path
) -> None:
    """Write the report as Markdown (for people) and Parquet (for programs), atomically."""
    missing = [c for c in REPORT_COLUMNS if c not in report_df.columns]
    if missing:
        raise ValueError(f"inversion report lacks columns {missing}")
    frame = report_df[REPORT_COLUMNS]
    table = pa.table(
        {
            "strategy": pa.array([str(s) for s in frame["strategy"]], type=pa.string()),
            **{
                c: pa.array(frame[c].to_numpy(dtype=numpy.float64), type=pa.float64())
                for c in REPORT_COLUMNS[1:]
            },
        }
    )
    with atomic_path(parquet_path) as tmp:
        pq.write_table(table, tmp)
    write_text(md_path, inversion_markdown(frame))
