"""Outside oracles: the legacy's own output, empyrical-reloaded, an independent max drawdown."""

from __future__ import annotations

import math

import empyrical
import numpy as np
import pandas as pd
import pytest

from engine_support import load_sample, random_sets
from stratopt.engine import reference
from stratopt.engine import strategy_metrics as metrics
from stratopt.engine.evaluator import Evaluator
from stratopt.engine.portfolio_metrics import performance_metrics

PREFIX = "Python_Multi_Consolidated_20250726_161921_"


@pytest.fixture(scope="module")
def sample(real_sample_csv):
    return load_sample(real_sample_csv)


def _real_series(sample) -> list[np.ndarray]:
    """Single strategies and equal-weight portfolios of the real sample."""
    rng = np.random.default_rng(29)
    out = [sample.values[:, i] for i in range(0, sample.n_strategies, 25)]
    ev = Evaluator(sample.values)
    out += [ev.series(s) for n in (2, 10, 35, 100) for s in random_sets(rng, 500, n, 5)]
    return out


def brute_force_max_drawdown(series: np.ndarray) -> float:
    """max over i <= j of equity_i - equity_j: the largest fall from any earlier close."""
    equity = np.cumsum(series)
    best = 0.0
    for i in range(len(equity)):
        for j in range(i, len(equity)):
            best = max(best, float(equity[i] - equity[j]))
    return best


def test_reference_metrics_equal_the_legacy_output(sample, real_metrics_csv):
    """The legacy's strategy_metrics.csv from production, for the 500 sampled strategies."""
    legacy = pd.read_csv(real_metrics_csv, index_col=0)
    legacy.index = [name.removeprefix(PREFIX) for name in legacy.index]
    mine = reference.strategy_metrics(sample)
    tuned = metrics.metrics_frame(sample)
    common = mine.index.intersection(legacy.index)
    assert len(common) == 500
    for col in reference.METRIC_COLUMNS:
        want = legacy.loc[common, col].to_numpy()
        np.testing.assert_allclose(mine.loc[common, col].to_numpy(), want, rtol=1e-12, err_msg=col)
        np.testing.assert_allclose(tuned.loc[common, col].to_numpy(), want, rtol=1e-9, err_msg=col)


def test_max_drawdown_matches_an_independent_formulation(sample):
    for series in _real_series(sample):
        want = brute_force_max_drawdown(series)
        assert reference.max_drawdown(series) == pytest.approx(want, rel=1e-12, abs=1e-9)
        got = performance_metrics(series)["max_drawdown"]
        assert got == pytest.approx(want, rel=1e-12, abs=1e-9)
    tuned = metrics.strategy_metrics(sample.values)["Max Drawdown"]
    brute = [brute_force_max_drawdown(sample.values[:, i]) for i in range(sample.n_strategies)]
    np.testing.assert_allclose(tuned, brute, rtol=1e-12, atol=1e-9)


@pytest.mark.parametrize("ppy", [252.0, "dates"])
def test_sharpe_and_sortino_match_empyrical(sample, ppy):
    """Legacy Sharpe = empyrical's x sqrt(T/(T-1)) (population vs sample std).

    Legacy Sortino divides by the population std of the losing days, not by
    empyrical's downside deviation: empyrical's own annualised mean is given
    that denominator, built from empyrical.annual_volatility of the losing
    days (sample std, converted to population std).
    """
    periods = sample.periods_per_year() if ppy == "dates" else ppy
    assert 50 < sample.periods_per_year() < 55  # weekly sessions
    for series in _real_series(sample):
        t = len(series)
        got = performance_metrics(series, periods_per_year=periods)
        sharpe = empyrical.sharpe_ratio(series, annualization=periods) * math.sqrt(t / (t - 1))
        assert got["sharpe_ratio"] == pytest.approx(sharpe, rel=1e-10)
        losses = series[series < 0]
        k = len(losses)
        assert k >= 2
        downside = empyrical.annual_volatility(losses, annualization=periods) * math.sqrt(
            (k - 1) / k
        )
        sortino = empyrical.sortino_ratio(series, annualization=periods, _downside_risk=downside)
        assert got["sortino_ratio"] == pytest.approx(sortino, rel=1e-10)
        assert got["annualized_return"] == pytest.approx(series.mean() * periods, rel=1e-12)


def test_performance_metrics_edge_cases():
    flat = performance_metrics(np.full(10, 5.0))
    assert flat["sharpe_ratio"] == 0.0 and flat["sortino_ratio"] == 0.0
    assert flat["profit_factor"] == math.inf and flat["max_drawdown"] == 0.0
    one_loss = performance_metrics(np.array([3.0, -1.0, 2.0]))
    assert one_loss["sortino_ratio"] == 0.0  # the std of one losing day is 0
    assert set(flat) == {
        "total_roi",
        "max_drawdown",
        "win_percentage",
        "profit_factor",
        "expectancy",
        "sharpe_ratio",
        "sortino_ratio",
        "annualized_return",
    }
    with pytest.raises(ValueError):
        performance_metrics(np.array([]))
