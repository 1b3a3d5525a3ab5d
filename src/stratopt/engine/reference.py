"""The reference engine: the legacy semantics written plainly, one portfolio at a time.

This is the oracle of the agreement tests and the baseline of
`stratopt bench fitness`, so it favours obviousness over speed: one strategy
or one portfolio per call, plain loops over strategies and over correlation
pairs, the dense correlation matrix as the legacy builds it. The semantics are
those of ../shared/docs/legacy-semantics.md; where they differ from the legacy
(the skipped first strategy, constant columns in floating point) see
docs/engine.md.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from stratopt.data.matrix import Matrix
from stratopt.data.zones import ZoneData
from stratopt.engine.objectives import DRAWDOWN_EPS, LOSS_EPS, STD_REL_EPS, metric_key
from stratopt.engine.protocol import Indices

if TYPE_CHECKING:  # pandas is imported where frames are built: the search never needs it
    import pandas as pd

METRIC_COLUMNS = ["ROI", "Max Drawdown", "Win Percentage", "Profit Factor", "Expectancy"]
REPORT_COLUMNS = [
    "strategy",
    "original_roi",
    "inverted_roi",
    "original_worst_day",
    "inverted_worst_day",
    "original_ratio",
    "inverted_ratio",
]
CORRELATION_PENALTY = 10.0
ZONE_CORRELATION_PENALTY = 0.5
DRAWDOWN_METRICS = ("less max dd", "ratio", "guarded ratio")


# ---------------------------------------------------------------- one series


def max_drawdown(series: np.ndarray) -> float:
    """max(peak - equity), the peak starting at the first day's equity."""
    equity = np.cumsum(series)
    peak = np.maximum.accumulate(equity)
    return float(np.max(peak - equity)) if len(series) else 0.0


def _expectancy(r: np.ndarray) -> float:
    gains = r[r > 0]
    losses = r[r < 0]
    win = len(gains) / len(r)
    mean_gain = float(np.mean(gains)) if len(gains) else 0.0
    mean_loss = float(np.mean(np.abs(losses))) if len(losses) else 0.0
    return win * mean_gain - (1.0 - win) * mean_loss


def series_metrics(r: np.ndarray) -> dict[str, float]:
    """The five per-strategy metrics of one daily series."""
    r = np.asarray(r, dtype=np.float64)
    gains = r[r > 0]
    losses = r[r < 0]
    loss = abs(float(np.sum(losses)))
    return {
        "ROI": float(np.sum(r)),
        "Max Drawdown": max_drawdown(r),
        "Win Percentage": len(gains) / len(r),
        "Profit Factor": float(np.sum(gains)) / loss if len(losses) else math.inf,
        "Expectancy": _expectancy(r),
    }


def strategy_metrics(matrix: Matrix) -> pd.DataFrame:
    """One row per strategy (all of them: the legacy skips the first one, a defect)."""
    import pandas as pd

    rows = [series_metrics(matrix.values[:, i]) for i in range(matrix.n_strategies)]
    frame = pd.DataFrame(
        rows, index=pd.Index(matrix.names, name="strategy"), columns=METRIC_COLUMNS
    )
    return frame.astype(np.float64)


# ---------------------------------------------------------------- ULTA


def ulta_ratio(roi: float, worst_day: float) -> float:
    """roi / |worst day|, infinite when the worst day is 0."""
    return roi / abs(worst_day) if worst_day != 0 else math.inf


def apply_ulta(matrix: Matrix) -> tuple[Matrix, pd.DataFrame]:
    """Invert every strategy whose inversion improves its ULTA ratio; report each inversion."""
    import pandas as pd

    kept: list[int] = []
    inverted: list[int] = []
    report: list[dict] = []
    for i, name in enumerate(matrix.names):
        r = matrix.values[:, i]
        roi = float(np.sum(r))
        worst = float(np.min(r))
        ratio = ulta_ratio(roi, worst)
        if ratio < 0:
            inv = -r
            inv_roi = float(np.sum(inv))
            inv_worst = float(np.min(inv))
            inv_ratio = ulta_ratio(inv_roi, inv_worst)
            if inv_ratio > ratio:
                inverted.append(i)
                report.append(
                    {
                        "strategy": name,
                        "original_roi": roi,
                        "inverted_roi": inv_roi,
                        "original_worst_day": worst,
                        "inverted_worst_day": inv_worst,
                        "original_ratio": ratio,
                        "inverted_ratio": inv_ratio,
                    }
                )
                continue
        kept.append(i)
    order = kept + inverted
    values = matrix.values[:, order].copy()
    values[:, len(kept) :] *= -1.0
    out = Matrix(
        dates=matrix.dates,
        days=list(matrix.days),
        names=[matrix.names[i] for i in kept] + [f"{matrix.names[i]}_inv" for i in inverted],
        values=np.ascontiguousarray(values),
        labels=[matrix.labels[i] for i in order],
    )
    return out, pd.DataFrame(report, columns=REPORT_COLUMNS)


# ---------------------------------------------------------------- correlation


def correlation_matrix(values: np.ndarray) -> np.ndarray:
    """Dense N x N Pearson correlation; undefined (constant column) entries are 0, diagonal too.

    A column is constant when all its values are equal. (The legacy's
    np.corrcoef does not see that: the rounding of the mean leaves a constant
    column with tiny non-zero deviations and gives it r = +-1 with other
    constant columns; docs/engine.md.)
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.shape[1]
    if n == 0:
        return np.zeros((0, 0))
    constant = np.ptp(x, axis=0) == 0 if x.shape[0] else np.ones(n, dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # T = 1: undefined, set to 0 below
        corr = np.atleast_2d(np.corrcoef(x, rowvar=False))
    corr = np.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)
    corr[constant, :] = 0.0
    corr[:, constant] = 0.0
    return corr


def mean_pair_correlation(corr: np.ndarray, indices: Indices) -> float:
    """Mean of corr[i, j] over the unordered pairs of the set (0 with fewer than two)."""
    idx = [int(i) for i in indices]
    n = len(idx)
    if n < 2:
        return 0.0
    total = 0.0
    for a in range(n):
        for b in range(a + 1, n):
            total += float(corr[idx[a], idx[b]])
    return total / (n * (n - 1) / 2)


# ---------------------------------------------------------------- fitness


def portfolio_series(values: np.ndarray, indices: Indices) -> np.ndarray:
    """Equal-weight portfolio: p_t = mean over the set of r[t, i]."""
    return np.asarray(values, dtype=np.float64)[:, list(indices)].mean(axis=1)


def guarded_ratio(p: np.ndarray, floor: float | None = None) -> float:
    """ROI / max(MaxDD, floor), floor = the population std of p unless given in rupees.

    A std below STD_REL_EPS of the series' root mean square is rounding: 0.
    With neither drawdown nor floor the series scores 0.
    """
    if floor is None:
        std = float(np.std(p))
        rms = math.sqrt(float(np.mean(p * p)))
        floor = std if std > STD_REL_EPS * rms else 0.0
    den = max(max_drawdown(p), floor)
    return float(np.sum(p)) / den if den > DRAWDOWN_EPS else 0.0


def base_fitness(p: np.ndarray, metric: str, drawdown_floor: float | None = None) -> float:
    """The metric of one portfolio series (unknown metric names count as roi, as in the legacy)."""
    key = metric_key(metric)
    roi = float(np.sum(p))
    if key == "guarded ratio":
        return guarded_ratio(p, drawdown_floor)
    if key == "less max dd":
        return -max_drawdown(p)
    if key == "ratio":
        dd = max_drawdown(p)
        if dd > DRAWDOWN_EPS:
            return roi / dd
        if roi > 0:
            return roi * 100.0
        if roi < 0:
            return roi * 10.0
        return 0.0
    if key == "win percentage":
        return float(np.count_nonzero(p > 0)) / len(p)
    if key == "profit factor":
        gains = float(np.sum(p[p > 0]))
        loss = abs(float(np.sum(p[p < 0])))
        if loss > LOSS_EPS:
            return gains / loss
        return 1.0 if gains > 0 else 0.0
    if key == "expectancy":
        return _expectancy(p)
    return roi


def desired_count(n: int, n_labels: int) -> float:
    """Balanced mode's target per source file: an equal share, n / number of files."""
    return n / n_labels if n_labels else 0.0


def balance_penalty(labels: Sequence[str], indices: Indices, penalty_factor: float) -> float:
    """penalty_factor * sum over files of |count in the set - desired count|."""
    files = sorted(set(labels))
    want = desired_count(len(indices), len(files))
    chosen = [labels[int(i)] for i in indices]
    return penalty_factor * sum(abs(chosen.count(f) - want) for f in files)


def fitness(
    values: np.ndarray,
    indices: Indices,
    *,
    metric: str = "ratio",
    drawdown_threshold: float = 0.0,
    corr: np.ndarray | None = None,
    labels: Sequence[str] | None = None,
    balanced: bool = False,
    penalty_factor: float = 1.0,
    drawdown_floor: float | None = None,
) -> float:
    """Legacy fitness of one portfolio: base metric - correlation penalty (- balance penalty).

    `corr` is the dense N x N matrix of correlation_matrix(values); when None
    the correlation of the chosen columns is computed on the spot (same
    numbers, without the N x N matrix). `drawdown_floor`: the guarded ratio's
    fixed floor in rupees (None: the portfolio's std).
    """
    idx = [int(i) for i in indices]
    p = portfolio_series(values, idx)
    base = base_fitness(p, metric, drawdown_floor)
    if corr is None:
        local = correlation_matrix(np.asarray(values, dtype=np.float64)[:, idx])
        mean_r = mean_pair_correlation(local, range(len(idx)))
    else:
        mean_r = mean_pair_correlation(corr, idx)
    penalty = CORRELATION_PENALTY * mean_r
    if metric_key(metric) in DRAWDOWN_METRICS and max_drawdown(p) < drawdown_threshold:
        penalty *= 0.5
    result = base - penalty
    if balanced:
        if labels is None:
            raise ValueError("balanced mode needs one label per strategy")
        result -= balance_penalty(labels, idx, penalty_factor)
    return result


def zone_series(zones: ZoneData, indices: Indices) -> np.ndarray:
    """p_d = sum over zones of w_z * mean over the set of M[d, z, i]."""
    idx = [int(i) for i in indices]
    d_count, z_count, _ = zones.values.shape
    p = np.zeros(d_count)
    for d in range(d_count):
        for z in range(z_count):
            p[d] += zones.weights[z] * float(np.mean(zones.values[d, z, idx]))
    return p


def zone_fitness(
    zones: ZoneData,
    indices: Indices,
    *,
    metric: str = "ratio",
    drawdown_threshold: float = 0.0,
    corr: np.ndarray | None = None,
) -> float:
    """Zone-mode fitness: `ratio` is the base alone; other metrics lose
    0.5 * max(0, mean pair correlation), halved under the drawdown threshold.

    `corr` defaults to the identity, as the legacy passes, which makes the
    penalty 0; pass correlation_matrix(zones.collapsed()) for a real one.
    """
    idx = [int(i) for i in indices]
    p = zone_series(zones, idx)
    base = base_fitness(p, metric)
    key = metric_key(metric)
    if key == "ratio":
        return base
    mean_r = 0.0 if corr is None else mean_pair_correlation(corr, idx)
    penalty = ZONE_CORRELATION_PENALTY * max(0.0, mean_r)
    if key in DRAWDOWN_METRICS and max_drawdown(p) < drawdown_threshold:
        penalty *= 0.5
    return base - penalty
