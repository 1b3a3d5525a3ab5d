"""The compiled single-swap climbs (stratopt.engine.climb) == the SA and HC Python loops."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from stratopt.algorithms import hc, load_algorithm, sa
from stratopt.engine import climb, kernels, objectives
from stratopt.engine.evaluator import Evaluator, Swapper


def matrix(seed: int = 7, t: int = 82, n: int = 400) -> np.ndarray:
    """P&L with a common factor (correlated strategies), a few flat and losing ones."""
    rng = np.random.default_rng(seed)
    values = rng.normal(0, 100, (t, n)) + rng.normal(0, 60, (t, 1)) * rng.uniform(-1, 1, n)
    values[:, :5] = 0.0  # no P&L at all
    values[:, 5:10] = np.abs(values[:, 5:10])  # never a losing session
    return values


def search(values: np.ndarray, name: str, preset: str, n: int, seed: int, compiled: bool,
           monkeypatch: pytest.MonkeyPatch, params: dict | None = None,
           **evaluator: Any) -> tuple[Any, int]:  # fmt: skip
    ev = Evaluator(values, **evaluator)
    if not compiled:  # the Python loops
        monkeypatch.setattr(sa, "climb_score", lambda ev, n: None)
        monkeypatch.setattr(hc, "climb_score", lambda ev, n: None)
    else:
        monkeypatch.setattr(sa, "climb_score", climb.climb_score)
        monkeypatch.setattr(hc, "climb_score", climb.climb_score)
        assert climb.climb_score(ev, n) is not None
    result = load_algorithm(name).run(
        ev, n, budget=1500, rng=np.random.default_rng(seed), preset=preset, params=params
    )
    return result, ev.evaluations


EVALUATORS = [
    {"metric": "guarded ratio"},
    {"metric": "guarded ratio", "drawdown_floor": 250.0, "drawdown_threshold": 400.0},
    {"metric": "ratio"},
    {"metric": "ratio", "drawdown_threshold": 900.0},
]


@pytest.mark.parametrize("evaluator", EVALUATORS)
@pytest.mark.parametrize(("name", "preset"), [("sa", "legacy"), ("sa", "default"),
                                              ("hc", "legacy"), ("hc", "default")])  # fmt: skip
def test_a_compiled_climb_is_the_python_loop(
    evaluator: dict, name: str, preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = matrix()
    for n, seed in [(3, 11), (20, 12), (60, 13)]:
        want, want_count = search(values, name, preset, n, seed, False, monkeypatch, **evaluator)
        got, got_count = search(values, name, preset, n, seed, True, monkeypatch, **evaluator)
        np.testing.assert_array_equal(got.best, want.best)
        assert got.fitness == want.fitness
        assert got.trace == want.trace
        assert got.trace_evaluations == want.trace_evaluations
        assert (got.evaluations, got_count) == (want.evaluations, want_count)


def test_long_climbs_refresh_the_running_sums_as_the_swapper_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """More than REFRESH_EVERY accepted swaps (a hot anneal accepts most moves): the
    kernel hands each refresh back to the Swapper."""
    refreshes = []
    real = Swapper._refresh
    monkeypatch.setattr(Swapper, "_refresh", lambda sw: refreshes.append(1) or real(sw))
    values = matrix(seed=3, n=120)
    hot = {"initial_accept": 0.9, "final_ratio": 1.0}
    want, _ = search(values, "sa", "default", 40, 5, False, monkeypatch, hot)
    python_refreshes = len(refreshes)
    refreshes.clear()
    got, _ = search(values, "sa", "default", 40, 5, True, monkeypatch, hot)
    assert python_refreshes > 2  # the start, then at least one every 64 accepted swaps
    assert len(refreshes) == python_refreshes
    assert (got.fitness, got.trace) == (want.fitness, want.trace)


def test_where_the_climb_does_not_apply_the_loops_stay_python() -> None:
    values = matrix(n=60)
    assert climb.climb_score(Evaluator(values, metric="roi"), 5) is None  # no port
    assert climb.climb_score(Evaluator(values, compiled=False), 5) is None  # NumPy path
    assert climb.climb_score(Evaluator(values, compiled="python"), 5) is None
    assert climb.climb_score(Evaluator(values), 30) is None  # 2n >= N: the complement draw
    labels = ["a", "b"] * 30
    assert climb.climb_score(Evaluator(values, labels=labels, balanced=True), 5) is None
    assert climb.climb_score(Evaluator(values), 29) is not None


def test_the_kernels_constants_are_the_objectives() -> None:
    """numba freezes another module's globals into its cache: the kernels keep copies."""
    assert kernels.DRAWDOWN_EPS == objectives.DRAWDOWN_EPS
    assert kernels.STD_REL_EPS == objectives.STD_REL_EPS


@pytest.mark.parametrize(("name", "preset"), [("sa", "legacy"), ("sa", "default"),
                                              ("hc", "legacy"), ("hc", "default")])  # fmt: skip
def test_one_or_two_strategies_and_tiny_budgets_climb_the_same(
    name: str, preset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """n = 1 (integers(0, 1) draws nothing), budgets that end before, at and after the
    start portfolio and SA's calibration."""
    values = matrix(n=120)
    for n in (1, 2):
        for budget in (1, 2, 5, 60):
            runs = []
            for compiled in (False, True):
                ev = Evaluator(values)
                score = climb.climb_score if compiled else (lambda ev, n: None)
                monkeypatch.setattr(sa, "climb_score", score)
                monkeypatch.setattr(hc, "climb_score", score)
                r = load_algorithm(name).run(
                    ev, n, budget=budget, rng=np.random.default_rng(n + budget), preset=preset
                )
                runs.append((r.best.tolist(), r.fitness, r.trace, r.trace_evaluations))
            assert runs[0] == runs[1]
