"""The six legacy fitness metrics as batch functions over portfolio series.

Each metric takes `series`, a (P, T) float64 array of P equal-weight portfolio
series (one row per portfolio; a (T,) array is treated as P = 1), and the array
module `xp` it lives in, and returns the base fitness of every row, shape (P,).
The same code runs on NumPy and CuPy: only element-wise operations,
reductions, cumulative sums and `where` are used.

Metrics whose drawdown-threshold rule applies (the penalty is halved when the
portfolio's max drawdown is under the threshold) carry
`uses_drawdown_threshold = True` and accept a precomputed `max_dd=` so that
the evaluator computes the drawdown once. A new metric registers under the
`stratopt.metrics` entry-point group with the same signature.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy

#: MaxDD at or below this counts as "no drawdown" for `ratio` (legacy constant).
DRAWDOWN_EPS = 1e-6
#: |sum of losing days| at or below this counts as "no loss" for `profit factor`.
LOSS_EPS = 1e-6

Array = Any
Metric = Callable[..., Array]


def _rows(series: Array, xp: ModuleType) -> Array:
    x = xp.asarray(series, dtype=xp.float64)
    return x[None, :] if x.ndim == 1 else x


def running_max(x: Array, xp: ModuleType = numpy) -> Array:
    """Running maximum along the last axis (exact; a doubling scan where accumulate is missing)."""
    accumulate = getattr(getattr(xp, "maximum", None), "accumulate", None)
    if accumulate is not None:
        try:
            return accumulate(x, axis=-1)
        except (NotImplementedError, TypeError, AttributeError):  # pragma: no cover - CuPy
            pass
    out = x.copy()  # pragma: no cover - backends without maximum.accumulate
    shift = 1
    t = x.shape[-1]
    while shift < t:
        out[..., shift:] = xp.maximum(out[..., shift:], out[..., :-shift].copy())
        shift *= 2
    return out


def max_drawdown(series: Array, xp: ModuleType = numpy) -> Array:
    """max(peak - equity) per row; the peak starts at the first day's equity, not 0."""
    equity = xp.cumsum(_rows(series, xp), axis=-1)
    return (running_max(equity, xp) - equity).max(axis=-1)


def total(series: Array, xp: ModuleType = numpy) -> Array:
    return _rows(series, xp).sum(axis=-1)


def roi(series: Array, xp: ModuleType = numpy) -> Array:
    """sum(p)."""
    return total(series, xp)


def less_max_dd(series: Array, xp: ModuleType = numpy, max_dd: Array | None = None) -> Array:
    """-MaxDD(p): the smaller the drawdown the better."""
    dd = max_drawdown(series, xp) if max_dd is None else max_dd
    return -dd


less_max_dd.uses_drawdown_threshold = True  # type: ignore[attr-defined]


def ratio(series: Array, xp: ModuleType = numpy, max_dd: Array | None = None) -> Array:
    """roi / MaxDD; without a drawdown, roi * 100 (gain) or roi * 10 (loss)."""
    r = total(series, xp)
    dd = max_drawdown(series, xp) if max_dd is None else max_dd
    has_dd = dd > DRAWDOWN_EPS
    safe = xp.where(has_dd, dd, 1.0)
    flat = xp.where(r > 0, r * 100.0, xp.where(r < 0, r * 10.0, 0.0))
    return xp.where(has_dd, r / safe, flat)


ratio.uses_drawdown_threshold = True  # type: ignore[attr-defined]


def win_percentage(series: Array, xp: ModuleType = numpy) -> Array:
    """Share of days with p > 0."""
    x = _rows(series, xp)
    return (x > 0).sum(axis=-1) / float(x.shape[-1])


def _gains_losses(x: Array, xp: ModuleType) -> tuple[Array, Array, Array, Array]:
    win = x > 0
    lose = x < 0
    gains = xp.where(win, x, 0.0).sum(axis=-1)
    losses = xp.where(lose, x, 0.0).sum(axis=-1)  # <= 0
    return gains, losses, win.sum(axis=-1), lose.sum(axis=-1)


def profit_factor(series: Array, xp: ModuleType = numpy) -> Array:
    """sum(p+) / |sum(p-)|; without losses 1 when there are gains, else 0."""
    gains, losses, _, _ = _gains_losses(_rows(series, xp), xp)
    loss = xp.abs(losses)
    has_loss = loss > LOSS_EPS
    safe = xp.where(has_loss, loss, 1.0)
    return xp.where(has_loss, gains / safe, xp.where(gains > 0, 1.0, 0.0))


def expectancy(series: Array, xp: ModuleType = numpy) -> Array:
    """win% * mean(gains) - (1 - win%) * mean(|losses|); an empty mean counts as 0."""
    x = _rows(series, xp)
    gains, losses, n_win, n_lose = _gains_losses(x, xp)
    win = n_win / float(x.shape[-1])
    mean_gain = xp.where(n_win > 0, gains / xp.maximum(n_win, 1), 0.0)
    mean_loss = xp.where(n_lose > 0, -losses / xp.maximum(n_lose, 1), 0.0)
    return win * mean_gain - (1.0 - win) * mean_loss


#: The legacy's six metrics by their config name (lower case, spaces).
BUILTIN: dict[str, Metric] = {
    "roi": roi,
    "less max dd": less_max_dd,
    "ratio": ratio,
    "win percentage": win_percentage,
    "profit factor": profit_factor,
    "expectancy": expectancy,
}


def metric_key(name: str) -> str:
    """Config spelling -> registry key: case-insensitive, '_' and '-' read as spaces."""
    return " ".join(str(name).strip().lower().replace("_", " ").replace("-", " ").split())


def get_metric(name: str) -> Metric:
    """A built-in metric, or one registered in the stratopt.metrics entry-point group."""
    key = metric_key(name)
    if key in BUILTIN:
        return BUILTIN[key]
    from stratopt.registry import load

    return load("metrics", key)


def uses_drawdown_threshold(metric: Metric) -> bool:
    return bool(getattr(metric, "uses_drawdown_threshold", False))
