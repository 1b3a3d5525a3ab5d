"""ULTA inversion of every strategy at once, and its report (legacy Markdown + Parquet).

Same decisions and numbers as reference.apply_ulta: a strategy with
ratio = sum(r) / |min(r)| < 0 is inverted when the inverted series' ratio is
larger (in effect: every strategy with a negative total). Inverted columns are
negated, renamed "<name>_inv" and moved to the end in their original order.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy
import pyarrow as pa

from stratopt.data.arrow_columns import numbers, strings
from stratopt.data.matrix import Matrix, write_table
from stratopt.engine.backend import to_numpy
from stratopt.engine.reference import REPORT_COLUMNS
from stratopt.errors import InputError
from stratopt.runtime.atomic import atomic_path

if TYPE_CHECKING:  # pandas only where a report is built: the decisions alone never need it
    import pandas as pd

    from stratopt.data.columns import Columns


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


def inverted_names(
    names: list[str], kept: Any, inverted: Any, source: str = "the matrix"
) -> list[str]:
    """The kept names, then "<name>_inv" for each inverted one; a clash is an error.

    A source column already named "X_inv" beside a losing "X" would give two
    strategies one name, and every later report would mix them up.
    """
    out = [names[i] for i in kept] + [f"{names[i]}_inv" for i in inverted]
    if len(set(out)) < len(out):
        taken = set(names)
        clash = next(f"{names[i]}_inv" for i in inverted if f"{names[i]}_inv" in taken)
        raise InputError(
            source,
            f"ULTA inverts the losing strategy {clash[:-4]!r} and names it {clash!r}, the name "
            "of another strategy: rename that column, or set ulta: false",
            column=clash,
        )
    return out


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
        names=inverted_names(list(matrix.names), kept, inverted),
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


def write_inversion_report(
    report_df: Columns | pd.DataFrame,
    md_path: str | Path,
    parquet_path: str | Path,
    legacy_names: Sequence[str] | None = None,
) -> None:
    """Write the report in the legacy's Markdown layout and as Parquet, atomically.

    `legacy_names`: the inverted strategies as the legacy writes them (the file
    stem in front, stratopt.legacy.names); the Parquet keeps the clean names.
    """
    from stratopt.legacy.inversion import inversion_report_text

    missing = [c for c in REPORT_COLUMNS if c not in report_df.columns]
    if missing:
        raise ValueError(f"inversion report lacks columns {missing}")
    frame = report_df[REPORT_COLUMNS]
    table = pa.table(
        {
            "strategy": strings([str(s) for s in frame["strategy"]]),
            **{
                c: numbers(numpy.asarray(frame[c], dtype=numpy.float64), numpy.float64)
                for c in REPORT_COLUMNS[1:]
            },
        }
    )
    write_table(table, parquet_path)  # with page checksums
    names = [str(s) for s in frame["strategy"]] if legacy_names is None else list(legacy_names)
    text = inversion_report_text(frame, names)
    with atomic_path(md_path) as tmp:
        tmp.write_bytes(text.encode("utf-8"))  # the legacy's CRLF kept as built
