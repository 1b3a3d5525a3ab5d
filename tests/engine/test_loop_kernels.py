"""The kernels' arithmetic in Python loops (select's path) == the numba kernels, bit for bit.

The select stage scores its winners with Evaluator(compiled="python") on the
winners' columns only, and writes those numbers (guarded_fitness) to
summary.json and portfolios.parquet: they must be the bits the numba path gives
on the whole matrix, for every metric, threshold and penalty.
"""

from __future__ import annotations

import numpy as np
import pytest

from stratopt.data.matrix import Matrix
from stratopt.engine.evaluator import Evaluator
from stratopt.engine.objectives import BUILTIN
from stratopt.selection.choice import guarded_fitness


def _values(seed: int, t: int = 57, n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = rng.normal(0.0, 1000.0, size=(t, n)) * rng.uniform(0.1, 3.0, size=n)
    values[:, 7] = 12.5  # a constant column: its correlations are 0
    values[: t // 2, 11] = 0.0
    return values


def _sets(seed: int, n: int, sizes: tuple[int, ...] = (1, 2, 5, 35, 60)) -> list[np.ndarray]:
    rng = np.random.default_rng(seed + 1)
    return [
        np.stack([rng.choice(n, size=k, replace=False) for _ in range(7)]).astype(np.int64)
        for k in sizes
    ]


@pytest.mark.parametrize("metric", sorted(BUILTIN))
@pytest.mark.parametrize("threshold", [0.0, 2500.0])
def test_python_loops_give_the_kernels_bits(metric: str, threshold: float) -> None:
    values = _values(3)
    kw = {"metric": metric, "drawdown_threshold": threshold}
    kernel = Evaluator(values, compiled=True, **kw)
    loops = Evaluator(values, compiled="python", **kw)
    for sets in _sets(3, values.shape[1]):
        assert kernel.evaluate(sets).tobytes() == loops.evaluate(sets).tobytes()


def test_python_loops_swap_like_the_kernels() -> None:
    values = _values(5)
    kernel = Evaluator(values, metric="guarded ratio", compiled=True).swapper(np.arange(20))
    loops = Evaluator(values, metric="guarded ratio", compiled="python").swapper(np.arange(20))
    rng = np.random.default_rng(9)
    members = list(range(20))
    for _ in range(100):
        pos = int(rng.integers(20))
        new = int(rng.choice(np.setdiff1d(np.arange(values.shape[1]), members)))
        assert kernel.propose(pos, new) == loops.propose(pos, new)
        assert kernel.propose_many([pos, 0], [new, new]).tobytes() == (
            loops.propose_many([pos, 0], [new, new]).tobytes()
        )
        kernel.accept(pos, new)
        loops.accept(pos, new)
        members[pos] = new


@pytest.mark.parametrize("floor", [None, 150.0])
def test_guarded_fitness_on_the_winners_columns_equals_the_whole_matrix(
    floor: float | None,
) -> None:
    values = _values(11, n=2000)
    n = values.shape[1]
    matrix = Matrix(
        dates=np.arange(values.shape[0]).astype("datetime64[D]"),
        days=["Mon"] * values.shape[0],
        names=[f"s{i}" for i in range(n)],
        values=values,
        labels=["a.csv"] * n,
    )
    rng = np.random.default_rng(12)
    sets = {k: sorted(rng.choice(n, size=k, replace=False).tolist()) for k in range(35, 60)}
    objective = {"drawdown_floor": floor, "drawdown_threshold": 100.0}
    whole = Evaluator(
        values,
        metric="guarded ratio",
        drawdown_threshold=100.0,
        drawdown_floor=floor,
        compiled=True,
    )
    got = guarded_fitness(matrix, sets, objective)
    assert got == {k: whole.evaluate_one(s) for k, s in sets.items()}
