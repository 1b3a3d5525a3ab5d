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

    @property
    def indices(self) -> np.ndarray:
        """The portfolio's strategies, in position order."""
        ...

    @property
    def fitness(self) -> float:
        """The fitness of the current portfolio."""
        ...

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

    @property
    def n_strategies(self) -> int: ...

    @property
    def n_days(self) -> int: ...

    @property
    def evaluations(self) -> int:
        """Portfolios evaluated so far (batch rows, evaluate_one, proposals): the budget's count."""
        ...

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
