"""The Evaluator interface over the plain reference fitness: the legacy's cost model.

The built-in baseline runs the algorithms' legacy loops (the same moves and
evaluation counts as the legacy optimizer) against this adapter, so that
every portfolio is scored the way the legacy scores it: one at a time, the
portfolio series built from the chosen columns, the mean pairwise
correlation looked up pair by pair in the dense N x N matrix
(stratopt.engine.reference.fitness with `corr`). Nothing is cached or batched; a
Swapper's proposal is a full re-evaluation of the modified set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from stratopt.engine import reference
from stratopt.engine.objectives import metric_key
from stratopt.engine.protocol import Indices


class ReferenceEvaluator:
    """stratopt.engine.evaluator.Evaluator's interface, computed by stratopt.engine.reference.fitness."""

    def __init__(
        self,
        values: np.ndarray,
        corr: np.ndarray,
        *,
        metric: str = "ratio",
        drawdown_threshold: float = 0.0,
        drawdown_floor: float | None = None,
        labels: Sequence[str] | None = None,
        balanced: bool = False,
        penalty_factor: float = 1.0,
    ) -> None:
        self.values = np.asarray(values, dtype=np.float64)
        if self.values.ndim != 2:
            raise ValueError(f"values must be a (T, N) array, got shape {self.values.shape}")
        n = self.values.shape[1]
        if corr.shape != (n, n):
            raise ValueError(f"corr must be {n} x {n}, got {corr.shape}")
        self.corr = corr
        self.n_days, self.n_strategies = self.values.shape
        self.metric = metric_key(metric)
        self._kw: dict[str, Any] = {
            "metric": metric,
            "drawdown_threshold": float(drawdown_threshold),
            "drawdown_floor": drawdown_floor,
            "corr": corr,
            "labels": labels,
            "balanced": balanced,
            "penalty_factor": float(penalty_factor),
        }
        self.evaluations = 0

    def _fitness(self, indices: Indices) -> float:
        self.evaluations += 1
        return reference.fitness(self.values, indices, **self._kw)

    def evaluate(self, sets: np.ndarray) -> np.ndarray:
        """Fitness of every row of `sets`, one reference call per row."""
        arr = np.asarray(sets)
        if arr.ndim != 2:
            raise ValueError(f"sets must be a (P, n) array, got shape {arr.shape}")
        return np.array([self._fitness(row) for row in arr], dtype=np.float64)

    def evaluate_one(self, indices: Indices) -> float:
        return self._fitness(indices)

    def series(self, indices: Indices) -> np.ndarray:
        return reference.portfolio_series(self.values, indices)

    def swapper(self, indices: Indices) -> ReferenceSwapper:
        return ReferenceSwapper(self, indices)


class ReferenceSwapper:
    """Single-swap moves scored by full re-evaluation (the legacy SA/HC inner step)."""

    def __init__(self, evaluator: ReferenceEvaluator, indices: Indices) -> None:
        idx = np.array(indices, dtype=np.int64).ravel()
        if len(idx) == 0:
            raise ValueError("a portfolio needs at least one strategy")
        if len(np.unique(idx)) != len(idx):
            raise ValueError("portfolio indices must be distinct")
        self._ev = evaluator
        self.indices = idx
        self.fitness = evaluator.evaluate_one(idx)
        self._last: tuple[int, int, float] | None = None

    def _moved(self, pos: int, new_index: int) -> np.ndarray:
        pos, new = int(pos), int(new_index)
        if not 0 <= pos < len(self.indices):
            raise IndexError(f"position {pos} out of range 0..{len(self.indices) - 1}")
        if not 0 <= new < self._ev.n_strategies:
            raise IndexError(f"strategy index {new} out of range")
        if new in self.indices and self.indices[pos] != new:
            raise ValueError(f"strategy {new} is already in the portfolio")
        moved = self.indices.copy()
        moved[pos] = new
        return moved

    def propose(self, pos: int, new_index: int) -> float:
        value = self._ev.evaluate_one(self._moved(pos, new_index))
        self._last = (int(pos), int(new_index), value)
        return value

    def propose_many(self, positions: Indices, new_indices: Indices) -> np.ndarray:
        pos = np.asarray(positions, dtype=np.int64).ravel()
        new = np.asarray(new_indices, dtype=np.int64).ravel()
        if pos.shape != new.shape:
            raise ValueError("positions and new_indices differ in length")
        return np.array(
            [self.propose(int(p), int(q)) for p, q in zip(pos, new, strict=True)], dtype=np.float64
        )

    def accept(self, pos: int, new_index: int) -> None:
        """Apply the swap; the last proposal's fitness is reused, as the legacy keeps its score."""
        moved = self._moved(pos, new_index)
        if self._last is not None and self._last[:2] == (int(pos), int(new_index)):
            self.fitness = self._last[2]
        else:
            self.fitness = reference.fitness(self._ev.values, moved, **self._ev._kw)
        self.indices = moved
        self._last = None
