"""GA: the legacy genetic algorithm (both presets).

Per generation: evaluate the population (one batch), keep the best seen, then
breed P children: two tournament winners (3 distinct individuals, the fittest
wins), a child of n strategies drawn from the union of both parents' genes,
then each gene replaced with probability m by a strategy not in the child.
G generations, G * P evaluations. The default preset is the same loop: the
GA already searches (the issue keeps it as it is).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratopt.algorithms import compiled
from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import mutate_rows, pick_from_union, random_subsets
from stratopt.algorithms.settings import AlgorithmSettings
from stratopt.engine.protocol import EvaluatorLike

TOURNAMENT = 3


def tournament_winners(rng: np.random.Generator, fitness: np.ndarray, count: int) -> np.ndarray:
    """`count` winners of tournaments among TOURNAMENT distinct individuals.

    The NumPy statement of the rule; the loop runs compiled.tournament_winners,
    which draws the same numbers and returns the same winners (tested).
    """
    size = len(fitness)
    k = min(TOURNAMENT, size)
    entrants = np.argsort(rng.random((count, size)), axis=1)[:, :k]
    best = np.argmax(fitness[entrants], axis=1)
    return entrants[np.arange(count), best]


def breed(
    rng: np.random.Generator,
    n_total: int,
    pop: np.ndarray,
    fitness: np.ndarray,
    rate: float,
    flags: np.ndarray,
) -> np.ndarray:
    """The next generation: tournament parents, union crossover, mutation.

    All three run compiled (stratopt.algorithms.compiled, the same draws as
    the NumPy rules here and in moves), in one call where the mutation's
    rejection draws are exact (2 n < N).
    """
    size = len(fitness)
    k = min(TOURNAMENT, size)
    fitness = np.asarray(fitness, dtype=np.float64)
    pop = np.ascontiguousarray(pop, dtype=np.int64)
    if 2 * pop.shape[1] < n_total:
        return compiled.ga_children(rng, n_total, pop, fitness, k, rate, flags)
    winners = compiled.tournament_winners(rng, fitness, 2 * size, k)
    children = compiled.union_picks(
        rng, pop[winners[:size]], pop[winners[size:]], pop.shape[1], flags
    )
    return compiled.mutate(rng, n_total, children, rate, flags)


def numpy_breed(
    rng: np.random.Generator, n_total: int, pop: np.ndarray, fitness: np.ndarray, rate: float
) -> np.ndarray:
    """breed's NumPy statement: the rules the compiled call must follow draw for draw (tested)."""
    size = len(fitness)
    winners = tournament_winners(rng, fitness, 2 * size)
    children = pick_from_union(rng, pop[winners[:size]], pop[winners[size:]], pop.shape[1])
    return mutate_rows(rng, n_total, children, rate)


@dataclass(frozen=True)
class GASettings(AlgorithmSettings):
    """None of its own: the legacy GA's moves, with the shared G, P and m."""


class GA(BaseAlgorithm[GASettings]):
    name = "ga"
    settings_class = GASettings

    def natural_budget(self, params: SearchParams[GASettings], n: int) -> int:
        return params.generations * params.population

    def _legacy(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[GASettings],
    ) -> None:
        pop = random_subsets(rng, ev.n_strategies, n, p.population)
        flags = compiled.scratch(ev.n_strategies)
        while t.remaining > 0:
            fit = t.evaluate(pop)
            t.record()
            if t.remaining <= 0:
                break
            pop = breed(rng, ev.n_strategies, pop[: len(fit)], fit, p.mutation_rate, flags)

    _default = _legacy
