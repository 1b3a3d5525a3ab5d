"""The fitness metrics (the six legacy ones, and the guarded ratio) as batch functions.

A metric takes `series`, a (T, P) float64 array of P portfolio series (one
column per portfolio, days down the rows like the P&L matrix; a (T,) array is
P = 1), and the array module `xp` it lives in, and returns the base fitness of
every portfolio, shape (P,). The code runs on NumPy and CuPy alike.

Every built-in metric is a function of a few sufficient statistics of the
series (series_stats: ROI, max drawdown, winning/losing day counts and sums, the sum
of squares),
exposed as `metric.from_stats(stats, xp)`: the evaluator's compiled kernel
computes those statistics in one pass per portfolio and never materialises
the series. A third-party metric needs only the series form; one that sets
`uses_drawdown_threshold = True` gets the legacy's halving of the correlation
penalty under the drawdown threshold. New metrics register in the
`stratopt.metrics` entry-point group.

`guarded ratio` (new in stratopt, the default objective) is the legacy ratio
with its denominator floored: ROI / max(MaxDD, floor), the floor being the
portfolio's own session-P&L standard deviation (or a configured amount in
rupees, `with_floor`). The legacy `ratio` scores a portfolio without drawdown
as ROI x 100, so a hindsight pick with a drawdown of a few paise reaches
fitness in the millions; the guarded ratio cannot (docs/engine.md).
"""

from __future__ import annotations

import math
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
#: A standard deviation below this share of the series' root mean square counts as 0:
#: sum-of-squares arithmetic leaves ~1e-8 x RMS of rounding on a constant series.
STD_REL_EPS = 1e-6
#: The sufficient statistics, in the column order of the evaluator's stats arrays.
STAT_KEYS = ("roi", "max_dd", "n_win", "n_lose", "gains", "loss")


def _columns(series: Array, xp: ModuleType) -> Array:
    x = xp.asarray(series, dtype=xp.float64)
    return x[:, None] if x.ndim == 1 else x


def running_max(x: Array, xp: ModuleType = numpy) -> Array:
    """Running maximum down axis 0 (exact, any array module).

    Wide arrays go row by row (T calls on contiguous rows): NumPy's
    maximum.accumulate down axis 0 runs ~20x slower than that on the
    production matrix (82 x 25,544). Narrow ones use accumulate where the
    module has it, else the row loop.
    """
    width = 1
    for d in x.shape[1:]:
        width *= d
    accumulate = getattr(getattr(xp, "maximum", None), "accumulate", None)
    if width < 64 and accumulate is not None:
        return accumulate(x, axis=0)
    out = x.copy()
    for t in range(1, x.shape[0]):
        xp.maximum(out[t - 1], out[t], out=out[t])
    return out


def max_drawdown(series: Array, xp: ModuleType = numpy) -> Array:
    """max(peak - equity) per column; the peak starts at the first day's equity, not 0."""
    equity = xp.cumsum(_columns(series, xp), axis=0)
    return (running_max(equity, xp) - equity).max(axis=0)


def series_stats(series: Array, xp: ModuleType = numpy) -> dict[str, Any]:
    """ROI, max drawdown, win/loss day counts, gains, |losses|, sum of squares; n_days."""
    x = _columns(series, xp)
    win = x > 0
    lose = x < 0
    return {
        "roi": x.sum(axis=0),
        "max_dd": max_drawdown(x, xp),
        "n_win": win.sum(axis=0).astype(xp.float64),
        "n_lose": lose.sum(axis=0).astype(xp.float64),
        "gains": xp.where(win, x, 0.0).sum(axis=0),
        "loss": -xp.where(lose, x, 0.0).sum(axis=0),
        "sq": (x * x).sum(axis=0),
        "n_days": x.shape[0],
    }


def session_std(s: dict, xp: ModuleType = numpy) -> Array:
    """Population standard deviation of the session P&L, from ROI and the sum of squares.

    Below STD_REL_EPS of the root mean square it is rounding, not variation: 0.
    """
    t = float(s["n_days"])
    mean = s["roi"] / t
    mean_sq = s["sq"] / t
    var = xp.maximum(mean_sq - mean * mean, 0.0)
    return xp.where(var > (STD_REL_EPS * STD_REL_EPS) * mean_sq, xp.sqrt(var), 0.0)


def _from_stats(fn: Callable[[dict, ModuleType], Array]) -> Metric:
    """Make the series form of a metric from its statistics form."""

    def metric(series: Array, xp: ModuleType = numpy) -> Array:
        return fn(series_stats(series, xp), xp)

    metric.__name__ = fn.__name__.removesuffix("_stats")
    metric.__doc__ = fn.__doc__
    metric.from_stats = fn  # type: ignore[attr-defined]
    return metric


@_from_stats
def roi(s: dict, xp: ModuleType = numpy) -> Array:
    """sum(p)."""
    return s["roi"]


@_from_stats
def less_max_dd(s: dict, xp: ModuleType = numpy) -> Array:
    """-MaxDD(p): the smaller the drawdown the better."""
    return -s["max_dd"]


@_from_stats
def ratio(s: dict, xp: ModuleType = numpy) -> Array:
    """roi / MaxDD; without a drawdown, roi * 100 (gain) or roi * 10 (loss), 0 at roi = 0."""
    r = s["roi"]
    dd = s["max_dd"]
    has_dd = dd > DRAWDOWN_EPS
    flat = xp.where(r > 0, r * 100.0, xp.where(r < 0, r * 10.0, 0.0))
    return xp.where(has_dd, r / xp.where(has_dd, dd, 1.0), flat)


@_from_stats
def win_percentage(s: dict, xp: ModuleType = numpy) -> Array:
    """Share of days with p > 0."""
    return s["n_win"] / float(s["n_days"])


@_from_stats
def profit_factor(s: dict, xp: ModuleType = numpy) -> Array:
    """sum(p+) / |sum(p-)|; without losses 1 when there are gains, else 0."""
    gains = s["gains"]
    loss = s["loss"]
    has_loss = loss > LOSS_EPS
    return xp.where(has_loss, gains / xp.where(has_loss, loss, 1.0), xp.where(gains > 0, 1.0, 0.0))


@_from_stats
def expectancy(s: dict, xp: ModuleType = numpy) -> Array:
    """win% * mean(gains) - (1 - win%) * mean(|losses|); an empty mean counts as 0."""
    n_win = s["n_win"]
    n_lose = s["n_lose"]
    win = n_win / float(s["n_days"])
    mean_gain = xp.where(n_win > 0, s["gains"] / xp.maximum(n_win, 1.0), 0.0)
    mean_loss = xp.where(n_lose > 0, s["loss"] / xp.maximum(n_lose, 1.0), 0.0)
    return win * mean_gain - (1.0 - win) * mean_loss


def guarded_ratio_with_floor(floor: float | None = None) -> Metric:
    """The guarded ratio with a fixed floor in rupees (None: the series' own std)."""
    if floor is not None and not (math.isfinite(floor) and floor >= 0):
        raise ValueError(f"the drawdown floor must be a finite amount >= 0 (got {floor})")

    def guarded_ratio_stats(s: dict, xp: ModuleType = numpy) -> Array:
        """ROI / max(MaxDD, floor); 0 when both are nil (no drawdown and no variation)."""
        r = s["roi"]
        bound = session_std(s, xp) if floor is None else float(floor)
        den = xp.maximum(s["max_dd"], bound)
        has_den = den > DRAWDOWN_EPS
        return xp.where(has_den, r / xp.where(has_den, den, 1.0), 0.0)

    metric = _from_stats(guarded_ratio_stats)
    metric.floor = floor  # type: ignore[attr-defined]
    metric.with_floor = guarded_ratio_with_floor  # type: ignore[attr-defined]
    metric.uses_drawdown_threshold = True  # type: ignore[attr-defined]
    return metric


#: ROI / max(MaxDD, the portfolio's session-P&L std): the default objective.
guarded_ratio = guarded_ratio_with_floor(None)

less_max_dd.uses_drawdown_threshold = True  # type: ignore[attr-defined]
ratio.uses_drawdown_threshold = True  # type: ignore[attr-defined]


class ScalarMath:
    """The few array-module functions the metrics use, on Python floats.

    Lets the statistics form of a metric score one portfolio without
    creating arrays (the Swapper's single proposals), with the same formulas.
    """

    float64 = float

    @staticmethod
    def where(cond: Any, a: Any, b: Any) -> Any:
        return a if cond else b

    @staticmethod
    def maximum(a: Any, b: Any) -> Any:
        return a if a >= b else b

    @staticmethod
    def abs(a: Any) -> Any:  # noqa: A003 - mirrors numpy.abs
        return a if a >= 0 else -a

    @staticmethod
    def sqrt(a: Any) -> Any:
        return math.sqrt(a)


SCALAR = ScalarMath()


#: The built-in metrics by their config name (lower case, spaces): the legacy's six
#: and the guarded ratio.
BUILTIN: dict[str, Metric] = {
    "roi": roi,
    "less max dd": less_max_dd,
    "ratio": ratio,
    "win percentage": win_percentage,
    "profit factor": profit_factor,
    "expectancy": expectancy,
    "guarded ratio": guarded_ratio,
}


def metric_key(name: str) -> str:
    """Config spelling -> registry key: case-insensitive, '_' and '-' read as spaces."""
    return " ".join(str(name).strip().lower().replace("_", " ").replace("-", " ").split())


def get_metric(name: str, drawdown_floor: float | None = None) -> Metric:
    """A built-in metric, or one registered in the stratopt.metrics entry-point group.

    `drawdown_floor` (rupees) configures a metric that takes one (`with_floor`,
    the guarded ratio); other metrics ignore it.
    """
    key = metric_key(name)
    if key in BUILTIN:
        metric = BUILTIN[key]
    else:
        from stratopt.registry import load

        metric = load("metrics", key)
    configure = getattr(metric, "with_floor", None)
    if drawdown_floor is not None and configure is not None:
        metric = configure(float(drawdown_floor))
    return metric


def uses_drawdown_threshold(metric: Metric) -> bool:
    return bool(getattr(metric, "uses_drawdown_threshold", False))
