"""The guarded ratio, the kernels' sum of squares, and the legacy `ratio` left as it was.

On the real 500-strategy sample: the guarded ratio ROI / max(MaxDD, floor)
agrees between the reference and the tuned engine (kernel and array paths,
population, single and batched swaps), with the portfolio's own standard
deviation as the floor and with a floor in rupees; the legacy `ratio` still
scores a portfolio without drawdown as ROI x 100 (ROI x 10 at a loss) in both
engines, where the guarded ratio stays bounded.
"""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from engine_support import assert_agree, load_sample, random_sets
from stratopt.engine import reference
from stratopt.engine.evaluator import Evaluator
from stratopt.engine.objectives import get_metric, series_stats, session_std


@pytest.fixture(scope="module")
def sample(real_sample_csv):
    return load_sample(real_sample_csv)


def _no_drawdown(sample, sign: float = 1.0) -> np.ndarray:
    """Real columns made one-signed: their portfolios' equity never falls (or never rises)."""
    return sign * np.abs(sample.values[:, :40])


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize("floor", [None, 2500.0])
def test_guarded_ratio_agrees_with_the_reference(sample, compiled, floor):
    rng = np.random.default_rng(zlib.crc32(f"guarded/{floor}".encode()))
    ev = Evaluator(sample.values, metric="guarded ratio", drawdown_floor=floor, compiled=compiled)
    for n in (1, 2, 5, 35, 100):
        sets = random_sets(rng, sample.n_strategies, n, 40)
        got = ev.evaluate(sets)
        want = np.array(
            [
                reference.fitness(sample.values, s, metric="guarded ratio", drawdown_floor=floor)
                for s in sets
            ]
        )
        assert_agree(got, want, floor=1e-3, what=f"guarded n={n} floor={floor}")
        sw = ev.swapper(sets[0])
        outside = np.setdiff1d(np.arange(sample.n_strategies), sets[0])[:20]
        positions = rng.integers(0, n, len(outside))
        many = sw.propose_many(positions, outside)
        one = np.array(
            [sw.propose(int(p), int(q)) for p, q in zip(positions, outside, strict=True)]
        )
        swapped = []
        for p, q in zip(positions, outside, strict=True):
            s = sets[0].copy()
            s[p] = q
            swapped.append(
                reference.fitness(sample.values, s, metric="guarded ratio", drawdown_floor=floor)
            )
        assert_agree(many, np.array(swapped), floor=1e-3, what="guarded propose_many")
        assert_agree(one, np.array(swapped), floor=1e-3, what="guarded propose")


def test_the_floor_is_the_portfolio_std_or_the_configured_amount(sample):
    idx = [3, 17, 250, 411]
    p = sample.values[:, idx].mean(axis=1)
    roi = float(p.sum())
    dd = reference.max_drawdown(p)
    std = float(np.std(p))
    assert reference.guarded_ratio(p) == pytest.approx(roi / max(dd, std), rel=1e-12)
    big = 10 * (dd + std)
    assert reference.guarded_ratio(p, big) == pytest.approx(roi / big, rel=1e-12)
    stats = series_stats(p)
    assert float(session_std(stats)[0]) == pytest.approx(std, rel=1e-9)


@pytest.mark.parametrize("compiled", [True, False])
def test_legacy_ratio_keeps_roi_x_100_without_drawdown(sample, compiled):
    gains = _no_drawdown(sample)
    # a loss on the first session only: the peak starts at day one's equity, so no drawdown
    first_loss = np.zeros_like(gains)
    first_loss[0] = -np.abs(sample.values[0, :40]) - 1.0
    idx = [0, 5, 9, 21]
    for values, factor in ((gains, 100.0), (first_loss, 10.0)):
        p = values[:, idx].mean(axis=1)
        roi = float(p.sum())
        assert reference.max_drawdown(p) == 0.0 and roi != 0.0
        assert reference.base_fitness(p, "ratio") == roi * factor
        local = reference.correlation_matrix(values[:, idx])
        penalty = 10.0 * reference.mean_pair_correlation(local, range(len(idx)))
        tuned = Evaluator(values, metric="ratio", compiled=compiled).evaluate_one(idx)
        assert tuned + penalty == pytest.approx(roi * factor, rel=1e-12)
        assert_agree(
            np.array([tuned]),
            np.array([reference.fitness(values, idx, metric="ratio")]),
            floor=1e-3,
            what="ratio without drawdown",
        )
    # the same zero-drawdown portfolio under the guarded ratio: ROI / std, thousands of
    # times smaller than the legacy's ROI x 100
    p = gains[:, idx].mean(axis=1)
    guarded = Evaluator(gains, metric="guarded ratio", compiled=compiled)
    plain = Evaluator(gains, metric="ratio", compiled=compiled)
    assert guarded.evaluate_one(idx) < plain.evaluate_one(idx) / 1000
    assert reference.guarded_ratio(p) == pytest.approx(float(p.sum()) / float(np.std(p)))


def test_a_series_without_drawdown_or_variation_scores_zero():
    flat = np.full((20, 3), 1000.0)
    for compiled in (True, False):
        ev = Evaluator(flat, metric="guarded ratio", compiled=compiled)
        assert ev.evaluate_one([0, 1]) == 0.0  # a constant 1000 a session: no evidence of risk
        assert Evaluator(flat, metric="ratio", compiled=compiled).evaluate_one([0]) == 20000 * 100
    assert reference.guarded_ratio(flat[:, 0]) == 0.0


@pytest.mark.parametrize("compiled", [True, False])
def test_statistics_are_those_of_the_portfolio_series(sample, compiled):
    rng = np.random.default_rng(11)
    ev = Evaluator(sample.values, metric="guarded ratio", compiled=compiled)
    sets = random_sets(rng, sample.n_strategies, 12, 30)
    stats = ev.statistics(sets)
    assert ev.evaluations == 30
    for k, s in enumerate(sets):
        p = reference.portfolio_series(sample.values, s)
        assert stats["roi"][k] == pytest.approx(p.sum(), rel=1e-12, abs=1e-9)
        assert stats["max_dd"][k] == pytest.approx(reference.max_drawdown(p), rel=1e-12, abs=1e-9)
        assert stats["n_win"][k] == np.count_nonzero(p > 0)
        assert stats["sq"][k] == pytest.approx(float((p * p).sum()), rel=1e-12)
    assert stats["n_days"] == sample.n_days


def test_a_bad_floor_is_refused():
    with pytest.raises(ValueError, match="drawdown floor"):
        get_metric("guarded ratio", -1.0)
    assert get_metric("ratio", 500.0) is get_metric("ratio")  # other metrics ignore a floor
