"""Per-strategy metrics of every column at once (the tuned twin of reference.strategy_metrics).

One pass of whole-array operations over the (T, N) matrix instead of a loop
over strategies; written against the array module `xp`, results stay on its
device (stratopt.engine.backend.to_numpy brings them back).
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy

from stratopt.data.columns import Columns
from stratopt.data.matrix import Matrix
from stratopt.engine.backend import to_numpy
from stratopt.engine.objectives import running_max
from stratopt.engine.reference import METRIC_COLUMNS

if TYPE_CHECKING:
    import pandas as pd

#: Strategies per block: every metric is a column's own, so blocks give the same bits,
#: and the (T, block) temporaries (equity, peaks, drawdowns, gains) stay a few MB
#: where whole (T, N) ones were 17 MB each on the production shape (prepare's peak).
BLOCK = 2048


def strategy_metrics(values: Any, xp: ModuleType = numpy) -> dict[str, Any]:
    """ROI, Max Drawdown, Win Percentage, Profit Factor (inf without a losing day), Expectancy."""
    x = xp.asarray(values, dtype=xp.float64)
    if x.shape[0] == 0:
        raise ValueError("strategy metrics need at least one day")
    n = x.shape[1]
    if n <= BLOCK:
        return _block_metrics(x, xp)
    parts = [_block_metrics(x[:, a : a + BLOCK], xp) for a in range(0, n, BLOCK)]
    return {k: xp.concatenate([p[k] for p in parts]) for k in parts[0]}


def _block_metrics(x: Any, xp: ModuleType) -> dict[str, Any]:
    t = x.shape[0]
    equity = xp.cumsum(x, axis=0)
    peak = running_max(equity, xp)
    max_dd = (peak - equity).max(axis=0)
    win = x > 0
    lose = x < 0
    n_win = win.sum(axis=0)
    n_lose = lose.sum(axis=0)
    gains = xp.where(win, x, 0.0).sum(axis=0)
    losses = -xp.where(lose, x, 0.0).sum(axis=0)  # >= 0
    win_pct = n_win / float(t)
    safe_loss = xp.where(n_lose > 0, losses, 1.0)
    pf = xp.where(n_lose > 0, gains / safe_loss, xp.inf)
    mean_gain = xp.where(n_win > 0, gains / xp.maximum(n_win, 1), 0.0)
    mean_loss = xp.where(n_lose > 0, losses / xp.maximum(n_lose, 1), 0.0)
    expectancy = win_pct * mean_gain - (1.0 - win_pct) * mean_loss
    return {
        "ROI": x.sum(axis=0),
        "Max Drawdown": max_dd,
        "Win Percentage": win_pct,
        "Profit Factor": pf,
        "Expectancy": expectancy,
    }


def metrics_columns(matrix: Matrix, xp: ModuleType = numpy) -> Columns:
    """strategy_metrics of a Matrix as the legacy-layout columns (the matrix's column order)."""
    cols = strategy_metrics(matrix.values, xp)
    data = {k: numpy.asarray(to_numpy(cols[k]), dtype=numpy.float64) for k in METRIC_COLUMNS}
    return Columns(data, METRIC_COLUMNS)


def metrics_frame(matrix: Matrix, xp: ModuleType = numpy) -> pd.DataFrame:
    """The same as a legacy-layout frame (index = strategy names), for comparisons."""
    return metrics_columns(matrix, xp).to_frame(matrix.names, "strategy")
