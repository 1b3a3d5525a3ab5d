"""strategy_metrics.csv in the legacy layout, and its reader.

The legacy writes its per-strategy metrics with pandas' `DataFrame.to_csv`
on Windows: a header whose first cell is empty (the unnamed index), then
`ROI,Max Drawdown,Win Percentage,Profit Factor,Expectancy`; one row per
strategy in its column order after ULTA, named `<file stem>_<name>` (with
`_inv` for an inverted one); every number the float's repr ('inf' for an
infinite profit factor); CRLF line endings. The real file
(../shared/data/sensex_strategy_metrics.csv) has exactly this shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stratopt.legacy import NEWLINE
from stratopt.runtime.atomic import atomic_path

if TYPE_CHECKING:  # reading back gives a frame; writing needs no pandas
    import pandas as pd

COLUMNS = ("ROI", "Max Drawdown", "Win Percentage", "Profit Factor", "Expectancy")


def _name(name: str) -> str:
    """The name cell, quoted as the csv module (and pandas) would when it must be."""
    if any(c in name for c in ',"\r\n'):
        return '"' + name.replace('"', '""') + '"'
    return name


def _row(values: list[float]) -> str:
    """The number cells: the float's repr; NaN as an empty cell, as pandas writes it."""
    return ",".join("" if v != v else repr(v) for v in values)


def _plain_row(values: list[float]) -> str:
    return ",".join(map(repr, values))


def metrics_csv_text(names: Sequence[str], values: np.ndarray) -> str:
    """The file's text: `names` (as the legacy writes them) and an (N, 5) float array."""
    data = np.asarray(values, dtype=np.float64)
    if data.shape != (len(names), len(COLUMNS)):
        raise ValueError(f"metrics of shape {data.shape} for {len(names)} names")
    lines = [",".join(["", *COLUMNS])]
    row = _row if np.isnan(data).any() else _plain_row
    lines += [f"{_name(n)},{row(r)}" for n, r in zip(names, data.tolist(), strict=True)]
    return NEWLINE.join(lines) + NEWLINE


def write_metrics_csv(path: str | Path, names: Sequence[str], values: np.ndarray) -> None:
    """Write strategy_metrics.csv atomically (bytes as built: CRLF kept)."""
    text = metrics_csv_text(names, values)
    with atomic_path(path) as tmp:
        tmp.write_bytes(text.encode("utf-8"))


def read_metrics_csv(path: str | Path) -> pd.DataFrame:
    """A legacy-layout metrics file (the legacy's or ours): index = names as written."""
    import pandas as pd

    frame = pd.read_csv(path, index_col=0)
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path}: not a strategy_metrics.csv (no column(s) {missing})")
    frame.index = frame.index.astype(str)
    return frame[list(COLUMNS)]
