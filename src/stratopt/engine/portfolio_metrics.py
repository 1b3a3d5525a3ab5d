"""Performance metrics of one portfolio series, with the legacy's formulas.

annualized_return = ROI * periods_per_year / T; sharpe = annualized_return /
(population std * sqrt(periods_per_year)); sortino = annualized_return / (population
std of the losing days * sqrt(periods_per_year)). The legacy uses 252 periods a
year; the project's own outputs pass Matrix.periods_per_year() (about 52 for the
weekly sessions of the real data), legacy-format outputs keep 252.
"""

from __future__ import annotations

import math

import numpy as np

from stratopt.engine.backend import to_numpy
from stratopt.engine.reference import series_metrics

LEGACY_PERIODS_PER_YEAR = 252.0


def annualized_return(series: np.ndarray, periods_per_year: float) -> float:
    return float(np.sum(series)) * periods_per_year / len(series) if len(series) else 0.0


def sharpe_ratio(series: np.ndarray, periods_per_year: float) -> float:
    """0 when the series does not vary."""
    std = float(np.std(series))
    if std == 0 or not math.isfinite(std):
        return 0.0
    return annualized_return(series, periods_per_year) / (std * math.sqrt(periods_per_year))


def sortino_ratio(series: np.ndarray, periods_per_year: float) -> float:
    """0 when there is no losing day or the losing days do not vary."""
    losses = series[series < 0]
    std = float(np.std(losses)) if len(losses) else 0.0
    if std == 0:
        return 0.0
    return annualized_return(series, periods_per_year) / (std * math.sqrt(periods_per_year))


#: The eight figures of a best-portfolio report, in the legacy's order.
PERFORMANCE_KEYS = (
    "total_roi",
    "max_drawdown",
    "win_percentage",
    "profit_factor",
    "expectancy",
    "sharpe_ratio",
    "sortino_ratio",
    "annualized_return",
)


def performance_metrics(
    series: np.ndarray, periods_per_year: float = LEGACY_PERIODS_PER_YEAR
) -> dict[str, float]:
    """The eight figures of a best-portfolio report, for a (T,) series."""
    p = np.asarray(to_numpy(series), dtype=np.float64).ravel()
    if len(p) == 0:
        raise ValueError("performance metrics need at least one day")
    m = series_metrics(p)
    return {
        "total_roi": m["ROI"],
        "max_drawdown": m["Max Drawdown"],
        "win_percentage": m["Win Percentage"],
        "profit_factor": m["Profit Factor"],
        "expectancy": m["Expectancy"],
        "sharpe_ratio": sharpe_ratio(p, periods_per_year),
        "sortino_ratio": sortino_ratio(p, periods_per_year),
        "annualized_return": annualized_return(p, periods_per_year),
    }
