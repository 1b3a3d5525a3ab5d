"""What every search algorithm shares: its protocol, its result, its budget.

An algorithm plugin is a class with `name`, `presets` and
`run(evaluator, n, *, budget, rng, params, preset) -> AlgorithmResult`;
`params` holds the shared knobs G, P and m and the algorithm's own settings
(`optimize.params.<name>`, declared by its `settings_class`). Two
presets always exist: `legacy` repeats the legacy optimizer's loop (same moves,
same evaluation count for the same G, P and mutation rate), `default` is the
algorithm its name promises. With `budget=None` both presets spend the
legacy's evaluation count (`natural_budget`), so they compare equal work.

The pipeline's budget rule (`resolve_budget`): the default preset gives every
algorithm the same number of evaluations per size (`optimize.budget`, G x P
when not set), so that algorithms are compared at equal work; the legacy
preset keeps each algorithm's legacy count unless a budget is set.

Counting is the evaluator's: `evaluator.evaluations` counts every portfolio
evaluated (batch rows, evaluate_one, Swapper.propose); a run's count is the
difference before and after it.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

import numpy as np

from stratopt.algorithms.settings import AlgorithmSettings, build_settings
from stratopt.engine.protocol import EvaluatorLike

PRESETS = ("default", "legacy")
S = TypeVar("S")


@dataclass
class AlgorithmResult:
    """One search at one portfolio size."""

    best: np.ndarray  # sorted strategy indices
    fitness: float
    evaluations: int
    trace: list[float]  # best fitness so far, one entry per iteration
    seconds: float
    # evaluations spent when each trace entry was recorded (same length as trace)
    trace_evaluations: list[int] = field(default_factory=list)


@runtime_checkable
class Algorithm(Protocol):
    name: str
    presets: tuple[str, ...]

    def run(
        self,
        evaluator: EvaluatorLike,
        n: int,
        *,
        budget: int | None,
        rng: np.random.Generator,
        params: Mapping[str, Any],
        preset: str,
    ) -> AlgorithmResult: ...


@dataclass(frozen=True)
class SearchParams(Generic[S]):
    """The legacy's search knobs (G generations, P population, m mutation rate), shared by
    every algorithm, and the algorithm's own settings (`optimize.params.<algorithm>`)."""

    generations: int = 50
    population: int = 30
    mutation_rate: float = 0.1
    settings: S = field(default_factory=AlgorithmSettings)  # type: ignore[assignment]

    @classmethod
    def from_mapping(
        cls,
        params: Mapping[str, Any] | None,
        settings_class: type[S] = AlgorithmSettings,  # type: ignore[assignment]
        where: str = "params",
    ) -> SearchParams[S]:
        """G, P and m from `params`; every other key is one of the algorithm's settings
        (an unknown one is a ConfigError naming `where`)."""
        p = dict(params or {})
        g = int(p.pop("generations", cls.generations))
        pop = int(p.pop("population", cls.population))
        m = float(p.pop("mutation_rate", cls.mutation_rate))
        if g < 1 or pop < 2:
            raise ValueError(f"generations must be >= 1 and population >= 2 (got {g}, {pop})")
        # the legacy clamps the mutation rate to 0.01..0.5
        return cls(
            generations=g,
            population=pop,
            mutation_rate=min(max(m, 0.01), 0.5),
            settings=build_settings(settings_class, p, where),
        )


def equal_budget(generations: int, population: int) -> int:
    """The default preset's evaluations per search when none is configured: G x P."""
    return int(generations) * int(population)


def resolve_budget(
    preset: str, budget: int | None, generations: int, population: int
) -> int | None:
    """Evaluations per search under the pipeline's rule; None = each algorithm's legacy count.

    An explicit budget applies to every algorithm. Otherwise the default
    preset spends G x P on every algorithm (equal work, a fair comparison),
    and the legacy preset keeps the legacy's own counts (SA 1 + 1000, ACO G ...).
    """
    if budget is not None:
        return int(budget)
    return equal_budget(generations, population) if preset == "default" else None


class Tracker:
    """Budget, best-so-far and trace of one run, counted by the evaluator."""

    def __init__(self, evaluator: EvaluatorLike, budget: int) -> None:
        if budget < 1:
            raise ValueError(f"an evaluation budget must be >= 1 (got {budget})")
        self.evaluator: EvaluatorLike = evaluator
        self.budget = int(budget)
        self._start_count = int(evaluator.evaluations)
        self._start_time = time.perf_counter()
        self.best: np.ndarray | None = None
        self.best_fitness = -math.inf
        self.trace: list[float] = []
        self.trace_evaluations: list[int] = []

    @property
    def used(self) -> int:
        return int(self.evaluator.evaluations) - self._start_count

    @property
    def remaining(self) -> int:
        return self.budget - self.used

    def evaluate(self, sets: np.ndarray) -> np.ndarray:
        """Evaluate as many rows of `sets` as the budget allows (maybe fewer)."""
        rows = min(len(sets), self.remaining)
        if rows <= 0:
            return np.empty(0, dtype=np.float64)
        fit = np.asarray(
            self.evaluator.evaluate(np.ascontiguousarray(sets[:rows])), dtype=np.float64
        )
        self.offer_batch(sets[:rows], fit)
        return fit

    def offer(self, indices: np.ndarray, fitness: float) -> None:
        """Keep `indices` if it beats the best seen (strictly, so the first of ties stays)."""
        if fitness > self.best_fitness or self.best is None:
            self.best = np.array(indices, dtype=np.int64, copy=True)
            self.best_fitness = float(fitness)

    def offer_batch(self, sets: np.ndarray, fitness: np.ndarray) -> None:
        if len(fitness):
            k = int(np.argmax(fitness))
            self.offer(sets[k], float(fitness[k]))

    @property
    def best_indices(self) -> np.ndarray:
        """The best portfolio so far (an error before anything was evaluated)."""
        if self.best is None:
            raise RuntimeError("the search evaluated nothing yet")
        return self.best

    def record(self) -> None:
        """One trace entry: the best fitness after this iteration."""
        self.trace.append(self.best_fitness)
        self.trace_evaluations.append(self.used)

    def record_steps(
        self, trace: np.ndarray, best: np.ndarray | None = None, fitness: float = -math.inf
    ) -> None:
        """The trace entries of steps the evaluator has already counted (a compiled
        climb: stratopt.engine.climb), and its best portfolio when it found a better one."""
        if best is not None:
            self.best = best
            self.best_fitness = float(fitness)
        used = self.used
        self.trace.extend(trace.tolist())
        self.trace_evaluations.extend(range(used - len(trace) + 1, used + 1))

    def record_each(self, fitness: np.ndarray) -> None:
        """One trace entry per evaluated portfolio (for one-sample-per-iteration loops)."""
        if len(fitness):
            start = self.trace[-1] if self.trace else -math.inf
            running = np.maximum.accumulate(np.maximum(fitness, start))
            self.trace.extend(running.tolist())
            used = self.used
            self.trace_evaluations.extend(range(used - len(fitness) + 1, used + 1))

    def result(self) -> AlgorithmResult:
        if self.best is None:
            raise RuntimeError("the search evaluated nothing")
        return AlgorithmResult(
            best=np.sort(self.best),
            fitness=self.best_fitness,
            evaluations=self.used,
            trace=list(self.trace),
            seconds=time.perf_counter() - self._start_time,
            trace_evaluations=list(self.trace_evaluations),
        )


class BaseAlgorithm(Generic[S]):
    """Dispatch on the preset; subclasses define the two loops and the legacy count.

    `settings_class` declares the algorithm's own settings (a dataclass,
    stratopt.algorithms.settings); `run` builds it from the keys of `params`
    other than G, P and m, so an unknown setting fails before any evaluation.
    """

    name: ClassVar[str] = ""
    presets: ClassVar[tuple[str, ...]] = PRESETS
    settings_class: ClassVar[type] = AlgorithmSettings

    def natural_budget(self, params: SearchParams[S], n: int) -> int:
        """The legacy's evaluation count for these parameters."""
        raise NotImplementedError

    def search_params(self, params: Mapping[str, Any] | None) -> SearchParams[S]:
        """G, P, m and this algorithm's settings from `params` (ConfigError if one is unknown)."""
        return SearchParams.from_mapping(
            params, self.settings_class, f"optimize.params.{self.name}"
        )

    def run(
        self,
        evaluator: EvaluatorLike,
        n: int,
        *,
        budget: int | None = None,
        rng: np.random.Generator,
        params: Mapping[str, Any] | None = None,
        preset: str = "default",
    ) -> AlgorithmResult:
        if preset not in self.presets:
            raise ValueError(
                f"{self.name}: unknown preset {preset!r}; known: {', '.join(self.presets)}"
            )
        n_total = int(evaluator.n_strategies)
        if not 1 <= n <= n_total:
            raise ValueError(f"{self.name}: portfolio size {n} outside 1..{n_total}")
        p = self.search_params(params)
        tracker = Tracker(evaluator, self.natural_budget(p, n) if budget is None else budget)
        loop = self._legacy if preset == "legacy" else self._default
        loop(tracker, evaluator, n, rng, p)
        return tracker.result()

    def _legacy(
        self, t: Tracker, ev: EvaluatorLike, n: int, rng: np.random.Generator, p: SearchParams[S]
    ) -> None:
        raise NotImplementedError

    def _default(
        self, t: Tracker, ev: EvaluatorLike, n: int, rng: np.random.Generator, p: SearchParams[S]
    ) -> None:
        raise NotImplementedError
