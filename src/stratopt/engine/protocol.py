"""What a search needs of an evaluator: the typed protocol the algorithms are written against.

Two classes satisfy it: the tuned `engine.evaluator.Evaluator` (with its
`Swapper`) and the benchmark's plain `bench.sidebyside.reference_evaluator`
(the legacy semantics, for the baseline). Writing the algorithms, the
optimize stage and the validation against the protocol, not `Any`, lets mypy
check every call they make; `runtime_checkable` lets a test check that both
classes provide it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np

#: Strategy indices: a NumPy integer array or any sequence of ints.
Indices = Sequence[int] | np.ndarray


@runtime_checkable
class SwapperLike(Protocol):
    """One portfolio under single-swap moves, each scored in O(T)."""

    indices: np.ndarray
    fitness: float

    def propose(self, pos: int, new_index: int) -> float:
        """The fitness with position `pos` replaced by `new_index` (counted; nothing changes)."""
        ...

    def propose_many(self, positions: Indices, new_indices: Indices) -> np.ndarray: ...

    def accept(self, pos: int, new_index: int) -> None:
        """Make the swap (the last proposal's value is reused when it was this one)."""
        ...


@runtime_checkable
class EvaluatorLike(Protocol):
    """Fitness of equal-weight portfolios over one P&L matrix; `evaluations` counts them."""

    n_strategies: int
    n_days: int
    evaluations: int

    def evaluate(self, sets: np.ndarray) -> np.ndarray:
        """Fitness of every row of `sets` ((P, n) distinct indices) as (P,) float64."""
        ...

    def evaluate_one(self, indices: Indices) -> float: ...

    def series(self, indices: Indices) -> np.ndarray:
        """The portfolio's equal-weight P&L series (T,)."""
        ...

    def swapper(self, indices: Indices) -> SwapperLike: ...


@runtime_checkable
class StatisticsEvaluator(EvaluatorLike, Protocol):
    """An evaluator that also gives the statistics behind the fitness (validation scores
    random portfolios on test sessions with them)."""

    def statistics(self, sets: Any) -> dict[str, Any]: ...
