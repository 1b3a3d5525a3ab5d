"""What a pick is compared with, and the figures that describe a P&L series.

- percentile: the share of a sample below a value, ties counted half, in %
  (50 for a value equal to every member; 100 above all of them).
- Spearman rank correlation (Pearson's r of the ranks, ties given their mean
  rank: scipy.stats.spearmanr's definition, which the tests check against;
  computed here because importing scipy.stats costs the stage ~60 MB and a
  second), None where it is undefined (fewer than three points, or a
  constant side: e.g. every algorithm found the same set).
- survival: test P&L per session / training P&L per session, None when the
  training mean is not positive (there was nothing to keep).
- naive picks: the n strategies with the highest training ROI, and the n
  with the highest training ratio (the legacy ROI / MaxDD rule, per strategy).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from stratopt.engine.objectives import DRAWDOWN_EPS, ratio
from stratopt.engine.reference import guarded_ratio, max_drawdown


def percentile(value: float, sample: np.ndarray) -> float:
    """100 x (#below + #equal / 2) / #sample."""
    sample = np.asarray(sample, dtype=np.float64)
    if sample.size == 0:
        raise ValueError("a percentile needs a non-empty sample")
    below = np.count_nonzero(sample < value)
    equal = np.count_nonzero(sample == value)
    return 100.0 * (below + 0.5 * equal) / sample.size


def mean_ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 1..n, tied values sharing their mean rank."""
    order = np.argsort(values, kind="stable")
    ranks = np.empty(len(values), dtype=np.float64)
    ranks[order] = np.arange(1, len(values) + 1, dtype=np.float64)
    _, group = np.unique(values, return_inverse=True)
    return (np.bincount(group, weights=ranks) / np.bincount(group))[group]


def spearman(x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray) -> float | None:
    """Spearman's rho of the pairs, None where it is undefined."""
    xa = np.asarray(x, dtype=np.float64)
    ya = np.asarray(y, dtype=np.float64)
    if len(xa) < 3 or np.ptp(xa) == 0 or np.ptp(ya) == 0:
        return None
    rx = mean_ranks(xa) - (len(xa) + 1) / 2.0
    ry = mean_ranks(ya) - (len(ya) + 1) / 2.0
    rho = float(rx @ ry / math.sqrt(float(rx @ rx) * float(ry @ ry)))
    return rho if math.isfinite(rho) else None


def survival(test_mean: float, train_mean: float) -> float | None:
    """Test P&L per session over training P&L per session (None without a training gain)."""
    return test_mean / train_mean if train_mean > 0 else None


def finite(x: float | None) -> float | None:
    """JSON-safe: None for NaN and infinities."""
    return float(x) if x is not None and math.isfinite(x) else None


def series_figures(series: np.ndarray, drawdown_floor: float | None = None) -> dict[str, Any]:
    """ROI, max drawdown, ratio, guarded ratio, win rate, mean, std and length of a series."""
    p = np.asarray(series, dtype=np.float64)
    roi = float(p.sum())
    dd = max_drawdown(p) if len(p) else 0.0
    return {
        "sessions": int(len(p)),
        "roi": roi,
        "max_drawdown": dd,
        "ratio": roi / dd if dd > DRAWDOWN_EPS else None,
        "guarded_ratio": guarded_ratio(p, drawdown_floor) if len(p) else 0.0,
        "win_rate": float(np.count_nonzero(p > 0)) / len(p) if len(p) else 0.0,
        "mean_pnl": roi / len(p) if len(p) else 0.0,
        "std": float(np.std(p)) if len(p) else 0.0,
    }


def training_roi_order(train: np.ndarray) -> np.ndarray:
    """Every column, highest training ROI first (ties: the first column)."""
    return np.argsort(-train.sum(axis=0), kind="stable")


def training_ratio_order(train: np.ndarray) -> np.ndarray:
    """Every column, highest training ratio first (legacy rule: ROI x 100 at no drawdown)."""
    return np.argsort(-ratio(train), kind="stable")


def top_of(order: np.ndarray, n: int) -> np.ndarray:
    """The first n columns of a ranking, in column order.

    A stable ranking's first n are the top n for every n: a fold ranks its
    columns once and takes each size's pick from it (ratio() over 25,544
    columns costs ~50 ms, once per size before).
    """
    return np.sort(order[:n])


def top_by_training_roi(train: np.ndarray, n: int) -> np.ndarray:
    """The n columns with the highest training ROI (ties: the first column)."""
    return top_of(training_roi_order(train), n)


def top_by_training_ratio(train: np.ndarray, n: int) -> np.ndarray:
    """The n columns with the highest training ratio (legacy rule: ROI x 100 at no drawdown)."""
    return top_of(training_ratio_order(train), n)


def distribution(values: np.ndarray, bins: int = 40) -> dict[str, Any]:
    """Summary and histogram of a sample (for validation.json and the report)."""
    v = np.asarray(values, dtype=np.float64)
    counts, edges = np.histogram(v, bins=bins)
    qs = (5, 25, 50, 75, 95)
    return {
        "count": int(v.size),
        "mean": float(v.mean()),
        "std": float(v.std()),
        "quantiles": {str(q): float(x) for q, x in zip(qs, np.percentile(v, qs), strict=True)},
        "histogram": {"edges": edges.tolist(), "counts": counts.tolist()},
    }
