"""The ULTA inversion report (inversion_report.md) in the legacy layout, and its reader.

The legacy writes, for the strategies it inverted and in their column order:

    # Inversion Report
    <blank>
    The following strategies had their returns inverted based on ULTA logic:
    ## <file stem>_<strategy name>
    - **Original ROI:** -1234.57
    - **Inverted ROI:** 1234.57
    - **Original Drawdown:** -456.78      (the worst single day, not a max drawdown)
    - **Inverted Drawdown:** -12.34
    - **Original Ratio:** -2.70
    - **Inverted Ratio:** 100.00
    <blank>

numbers with two decimals (`f"{x:.2f}"`: 'inf' for an infinite ratio), CRLF
line endings, one newline at the end. The legacy writes no file at all when
nothing was inverted; stratopt writes the three header lines alone, so the
prepare stage's output always exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stratopt.legacy import NEWLINE

if TYPE_CHECKING:  # the report is written from any table with its columns; read back as a frame
    import pandas as pd

TITLE = "# Inversion Report"
INTRO = "The following strategies had their returns inverted based on ULTA logic:"
#: The bullet labels, in order, and the report column each shows.
FIELDS = (
    ("Original ROI", "original_roi"),
    ("Inverted ROI", "inverted_roi"),
    ("Original Drawdown", "original_worst_day"),
    ("Inverted Drawdown", "inverted_worst_day"),
    ("Original Ratio", "original_ratio"),
    ("Inverted Ratio", "inverted_ratio"),
)
_BULLET = re.compile(r"^- \*\*(?P<label>[^*]+):\*\* (?P<value>\S+)$")


def inversion_report_text(report: Any, names: Sequence[str]) -> str:
    """The file's text: one entry per row of `report` (ulta.REPORT_COLUMNS), named by `names`."""
    if len(names) != len(report):
        raise ValueError(f"{len(names)} names for {len(report)} inverted strategies")
    lines = [TITLE, "", INTRO]
    columns = {col: np.asarray(report[col], dtype=float) for _, col in FIELDS}
    for i, name in enumerate(names):
        lines.append(f"## {name}")
        lines += [f"- **{label}:** {columns[col][i]:.2f}" for label, col in FIELDS]
        lines.append("")
    return NEWLINE.join(lines) + ("" if lines[-1] == "" else NEWLINE)


def parse_inversion_report(text: str, source: str = "<text>") -> pd.DataFrame:
    """Entries back as a frame: `strategy` (as written) and the six figures (2 decimals)."""
    lines = text.splitlines()
    if lines[:3] != [TITLE, "", INTRO]:
        raise ValueError(f"{source}: does not start like a legacy inversion report")
    rows: list[dict[str, object]] = []
    labels = dict(FIELDS)
    for lineno, line in enumerate(lines[3:], start=4):
        if line.startswith("## "):
            rows.append({"strategy": line[3:]})
        elif (m := _BULLET.match(line)) is not None and rows and m["label"] in labels:
            rows[-1][labels[m["label"]]] = float(m["value"])
        elif line != "":
            raise ValueError(f"{source}, line {lineno}: {line!r} fits no line of the layout")
    incomplete = [r["strategy"] for r in rows if len(r) != len(FIELDS) + 1]
    if incomplete:
        raise ValueError(f"{source}: entries without all six figures: {incomplete[:3]}")
    import pandas as pd

    return pd.DataFrame(rows, columns=["strategy", *(col for _, col in FIELDS)])


def read_inversion_report(path: str | Path) -> pd.DataFrame:
    return parse_inversion_report(Path(path).read_bytes().decode("utf-8"), str(path))
