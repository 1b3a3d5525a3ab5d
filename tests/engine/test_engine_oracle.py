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


# --- the prepare stage's strategy_metrics against the legacy's file ---------------------


@pytest.fixture(scope="module")
def prepared_metrics(sample, tmp_path_factory):
    """strategy_metrics.parquet of the prepare stage on the sample, ULTA off and on."""
    from stratopt.db.duckdb_backend import DuckDBDatabase
    from stratopt.db.load import load_matrix
    from stratopt.db.prepare import PrepareOutputs, prepare

    out = {}
    for ulta in (False, True):
        folder = tmp_path_factory.mktemp(f"ulta_{ulta}")
        with DuckDBDatabase(folder / "s.duckdb") as db:
            load_matrix(db, sample)
            prepare(db, {"ulta": ulta}, PrepareOutputs.under(folder))
        out[ulta] = pd.read_parquet(folder / "strategy_metrics.parquet")
    return out


def _legacy_rows(real_metrics_csv) -> pd.DataFrame:
    legacy = pd.read_csv(real_metrics_csv, index_col=0)  # the legacy ran with ULTA off
    legacy.index = [name.removeprefix(PREFIX) for name in legacy.index]
    return legacy


def brute_force_max_runup(series: np.ndarray) -> float:
    """max over i <= j of equity_j - equity_i: the negated series' max drawdown."""
    equity = np.cumsum(series)
    return max(
        float(equity[j] - equity[i]) for i in range(len(equity)) for j in range(i, len(equity))
    )


def test_strategy_metrics_equal_the_legacy_file_with_ulta_off(prepared_metrics, real_metrics_csv):
    ours = prepared_metrics[False].set_index("strategy")
    assert not ours["inverted"].any()
    legacy = _legacy_rows(real_metrics_csv).loc[ours.index]
    for col in reference.METRIC_COLUMNS:
        np.testing.assert_allclose(ours[col], legacy[col], rtol=1e-9, err_msg=col)
        np.testing.assert_array_equal(ours[col], ours[f"raw {col}"])


def test_strategy_metrics_with_ulta_on_follow_the_legacy_semantics(
    sample, prepared_metrics, real_metrics_csv
):
    """Expected figures derived from the legacy's own (ULTA off) row of each strategy.

    ULTA inverts exactly the strategies whose ROI is negative and lists them
    last, in their order, as `<name>_inv`, with the inverted series' metrics:
    ROI negated; win and loss days swap (zero days stay zero); gains and losses
    swap, so the profit factor is inverted and the expectancy follows; the max
    drawdown becomes the raw series' largest run-up (independently computed).
    """
    ours = prepared_metrics[True]
    legacy = _legacy_rows(real_metrics_csv).loc[sample.names]
    losing = [n for n in sample.names if legacy.loc[n, "ROI"] < 0]
    kept = [n for n in sample.names if legacy.loc[n, "ROI"] >= 0]
    assert list(ours["strategy"]) == kept + [f"{n}_inv" for n in losing]
    assert list(ours["original_strategy"]) == kept + losing
    assert list(ours["inverted"]) == [False] * len(kept) + [True] * len(losing)
    assert 0 < len(losing) < sample.n_strategies

    rows = ours.set_index("original_strategy")
    for col in reference.METRIC_COLUMNS:  # the raw figures are the legacy's, unchanged
        np.testing.assert_allclose(rows[f"raw {col}"], legacy.loc[rows.index, col], rtol=1e-9)
    same = rows.loc[kept]
    for col in reference.METRIC_COLUMNS:
        np.testing.assert_allclose(same[col], legacy.loc[kept, col], rtol=1e-9, err_msg=col)

    t = sample.n_days
    position = {n: i for i, n in enumerate(sample.names)}
    for name in losing:
        raw, got = legacy.loc[name], rows.loc[name]
        series = sample.values[:, position[name]]
        zero = np.count_nonzero(series == 0) / t
        win, roi, pf = raw["Win Percentage"], raw["ROI"], raw["Profit Factor"]
        loss_days = 1.0 - win - zero
        losses = roi / (pf - 1.0)  # |sum of losing days|, from ROI = gains - losses, PF = g / l
        gains = pf * losses
        mean_gain = gains / (win * t) if win > 0 else 0.0
        mean_loss = losses / (loss_days * t)
        assert got["ROI"] == pytest.approx(-roi, rel=1e-12)
        assert got["Win Percentage"] == pytest.approx(loss_days, rel=1e-12)
        want_pf = math.inf if gains == 0 else losses / gains
        assert got["Profit Factor"] == pytest.approx(want_pf, rel=1e-9)
        want_expectancy = loss_days * mean_loss - (1.0 - loss_days) * mean_gain
        assert got["Expectancy"] == pytest.approx(want_expectancy, rel=1e-9, abs=1e-9)
        assert got["Max Drawdown"] == pytest.approx(brute_force_max_runup(series), rel=1e-12)


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
