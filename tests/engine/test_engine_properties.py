"""Property tests (hypothesis) of the edge cases: zero and constant strategies, n = 1 and 2,
ties, ROI = 0, no losing day; tuned and reference must agree on every one.

The matrices hold small integers, so that every portfolio sum is exact in
float64 and the two engines take the same side of every branch (p > 0,
MaxDD > 1e-6, |losses| > 1e-6, MaxDD < threshold): a wrong branch shows as a
large difference, never as rounding.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from engine_support import METRICS, assert_agree
from stratopt.data.matrix import Matrix
from stratopt.engine import reference
from stratopt.engine import strategy_metrics as metrics
from stratopt.engine.evaluator import Evaluator
from stratopt.engine.objectives import get_metric


@st.composite
def matrices(draw, max_days: int = 12, max_strategies: int = 8):
    t = draw(st.integers(1, max_days))
    n = draw(st.integers(1, max_strategies))
    values = draw(hnp.arrays(np.float64, (t, n), elements=st.integers(-6, 6).map(float)))
    # Plant the edge cases: an all-zero column, a constant column, a copy (ties).
    kind = draw(st.sampled_from(["none", "zero", "constant", "copy", "positive"]))
    col = draw(st.integers(0, n - 1))
    if kind == "zero":
        values[:, col] = 0.0
    elif kind == "constant":
        values[:, col] = draw(st.integers(-4, 4))
    elif kind == "copy" and n > 1:
        values[:, col] = values[:, (col + 1) % n]
    elif kind == "positive":
        values[:, col] = np.abs(values[:, col])
    return values


@st.composite
def portfolio_cases(draw):
    values = draw(matrices())
    n_strat = values.shape[1]
    size = draw(st.integers(1, n_strat))
    idx = draw(st.permutations(range(n_strat)))[:size]
    metric = draw(st.sampled_from(METRICS))
    threshold = draw(st.sampled_from([0.0, 0.5, 2.0, 5.0, 100.0]))
    return values, np.array(idx), metric, threshold


@pytest.mark.parametrize("compiled", [True, False], ids=["kernel", "array"])
@settings(max_examples=300, deadline=None)
@given(case=portfolio_cases())
def test_tuned_equals_reference_on_edge_cases(compiled, case):
    values, idx, metric, threshold = case
    ev = Evaluator(values, metric=metric, drawdown_threshold=threshold, compiled=compiled)
    got = ev.evaluate(idx[None, :])
    want = reference.fitness(values, idx, metric=metric, drawdown_threshold=threshold)
    assert_agree(got, np.array([want]), floor=1e-3, what=metric)


@pytest.mark.parametrize("compiled", [True, False], ids=["kernel", "array"])
@settings(max_examples=150, deadline=None)
@given(values=matrices(), data=st.data())
def test_swaps_equal_full_evaluation(compiled, values, data):
    n_strat = values.shape[1]
    if n_strat < 2:
        return
    size = data.draw(st.integers(1, n_strat - 1))
    metric = data.draw(st.sampled_from(METRICS))
    start = data.draw(st.permutations(range(n_strat)))[:size]
    ev = Evaluator(values, metric=metric, drawdown_threshold=1.0, compiled=compiled)
    sw = ev.swapper(start)
    for _ in range(data.draw(st.integers(1, 30))):
        pos = data.draw(st.integers(0, size - 1))
        outside = [i for i in range(n_strat) if i not in set(sw.indices.tolist())]
        new = data.draw(st.sampled_from(outside))
        proposed = sw.propose(pos, new)
        sw.accept(pos, new)
        want = reference.fitness(values, sw.indices, metric=metric, drawdown_threshold=1.0)
        assert_agree(np.array([proposed, sw.fitness]), np.array([want, want]), 1e-3, metric)


@settings(max_examples=300, deadline=None)
@given(matrices())
def test_strategy_metrics_agree(values):
    t, n = values.shape
    matrix = Matrix(
        dates=np.arange(t).astype("datetime64[D]"),
        days=[""] * t,
        names=[f"s{i}" for i in range(n)],
        values=values,
    )
    want = reference.strategy_metrics(matrix)
    got = metrics.strategy_metrics(values)
    for col in reference.METRIC_COLUMNS:
        assert_agree(got[col], want[col].to_numpy(), 1e-3, col)


def test_all_zero_strategy():
    m = reference.series_metrics(np.zeros(5))
    assert m == {
        "ROI": 0.0,
        "Max Drawdown": 0.0,
        "Win Percentage": 0.0,
        "Profit Factor": math.inf,
        "Expectancy": 0.0,
    }
    zeros = np.zeros((5, 3))
    for metric in METRICS:  # ROI = 0 and no drawdown: every metric's zero branch
        assert Evaluator(zeros, metric=metric).evaluate_one([0, 1, 2]) == 0.0
        assert reference.fitness(zeros, [0, 1, 2], metric=metric) == 0.0


def test_constant_columns_have_no_correlation():
    # 0.1 repeated: np.corrcoef sees rounding noise and says r = 1 between such columns.
    values = np.full((82, 3), 0.1)
    values[:, 1] = np.linspace(-1, 1, 82)
    values[:, 2] = 0.7
    corr = reference.correlation_matrix(values)
    assert corr[0, 2] == 0.0 and corr[0, 0] == 0.0 and corr[1, 1] == 1.0
    ev = Evaluator(values, metric="roi")
    roi = values[:, [0, 2]].mean(axis=1).sum()
    assert reference.fitness(values, [0, 2], metric="roi") == pytest.approx(roi, rel=1e-14)
    assert ev.evaluate_one([0, 2]) == pytest.approx(roi, rel=1e-14)  # no penalty


def test_penalty_is_ten_times_mean_correlation():
    rng = np.random.default_rng(0)
    a = rng.normal(size=50)
    values = np.column_stack([a, a, -a, rng.normal(size=50)])
    roi = values[:, [0, 1]].mean(axis=1).sum()
    assert abs(Evaluator(values, metric="roi").evaluate_one([0, 1]) - (roi - 10.0)) < 1e-12
    # identical and opposite: r = 1, -1, -1 -> mean -1/3 -> penalty -10/3
    got = Evaluator(values, metric="roi").evaluate_one([0, 1, 2])
    want = values[:, [0, 1, 2]].mean(axis=1).sum() + 10.0 / 3.0
    assert abs(got - want) < 1e-12


def test_single_strategy_has_no_penalty():
    values = np.array([[3.0, 1.0], [-1.0, 2.0], [2.0, -5.0]])
    for metric in METRICS:
        ev = Evaluator(values, metric=metric)
        base = get_metric(metric)(values[:, 0])[0]
        assert ev.evaluate_one([0]) == base == reference.fitness(values, [0], metric=metric)


def test_ratio_branches():
    ratio = get_metric("ratio")
    assert ratio(np.array([1.0, 2.0]))[0] == 300.0  # no drawdown, gain: roi * 100
    assert ratio(np.array([-1.0]))[0] == -10.0  # no drawdown (peak = first day), loss: roi * 10
    # falling series: equity -1, -3, drawdown 2 > 1e-6 -> roi / dd
    assert ratio(np.array([-1.0, -2.0]))[0] == -1.5
    assert ratio(np.array([0.0, 0.0]))[0] == 0.0
    pf = get_metric("profit factor")
    assert pf(np.array([1.0, 2.0]))[0] == 1.0  # no losing day
    assert pf(np.array([0.0, 0.0]))[0] == 0.0
    assert pf(np.array([3.0, -1.0]))[0] == 3.0


def test_drawdown_threshold_halves_penalty_only_for_drawdown_metrics():
    rng = np.random.default_rng(2)
    values = rng.normal(size=(30, 6))
    idx = [0, 1, 2]
    for metric in METRICS:
        lo = Evaluator(values, metric=metric, drawdown_threshold=0.0).evaluate_one(idx)
        hi = Evaluator(values, metric=metric, drawdown_threshold=1e9).evaluate_one(idx)
        if metric in reference.DRAWDOWN_METRICS:
            base = get_metric(metric)(values[:, idx].mean(axis=1))[0]
            assert abs((base - hi) * 2 - (base - lo)) < 1e-12
        else:
            assert hi == lo


def test_unknown_metric_is_roi_in_reference_and_an_error_in_the_engine():
    from stratopt.errors import ConfigError

    values = np.arange(12.0).reshape(4, 3)
    assert reference.fitness(values, [0, 1], metric="sharpe?") == reference.fitness(
        values, [0, 1], metric="roi"
    )
    with pytest.raises(ConfigError):
        Evaluator(values, metric="sharpe?")
    # spelling: case and underscores do not matter
    assert Evaluator(values, metric="Less_Max_DD").metric == "less max dd"
