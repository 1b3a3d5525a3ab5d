"""DE: differential evolution over sets.

legacy: P random members (evaluated: P evaluations); the best starts as the
first member. Each of G iterations gives every member a random partner (a
different member); the child takes each position from member or partner
with probability 1/2, repeated strategies are replaced by random unused ones,
and the child replaces the member unconditionally (no selection). The
children of one iteration are evaluated as one batch. P + G * P evaluations.

default (set-based DE/rand/1/bin with selection): for each member i, three
other distinct members a, b, c; the mutant is a moved by F towards b and away
from c (each strategy of b that neither a nor c holds comes in with
probability F, displacing a member of a that c holds and b does not, else any
member of a not in b); the trial takes each strategy of the mutant the member
lacks with probability CR (at least one); the trial replaces the member only
if it is at least as fit. Same P + G * P evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratopt.algorithms import compiled
from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import dedupe_rows, isin, random_subsets
from stratopt.algorithms.settings import AlgorithmSettings, setting
from stratopt.engine.protocol import EvaluatorLike


def other_members(rng: np.random.Generator, size: int, i: int, k: int) -> np.ndarray:
    """k distinct members of 0..size-1, none equal to i.

    The NumPy statement of the legacy partner draw (k = 1); the loop runs
    compiled.legacy_partners, which draws the same numbers (tested).
    """
    picks = rng.choice(size - 1, k, replace=False)
    return picks + (picks >= i)


def differential_mutant(
    rng: np.random.Generator, a: np.ndarray, b: np.ndarray, c: np.ndarray, f: float
) -> np.ndarray:
    """The set analogue of a + F * (b - c).

    The NumPy statement of the move; the default loop runs the compiled one
    (compiled.de_trials: the same move, its random numbers drawn in another order).
    """
    incoming = b[~isin(b, c) & ~isin(b, a)]
    incoming = incoming[rng.random(len(incoming)) < f]
    if len(incoming) == 0:
        return a.copy()
    # members of a that c holds and b does not go first, then other members of a not in b
    out_first = np.flatnonzero(isin(a, c) & ~isin(a, b))
    out_rest = np.flatnonzero(~isin(a, c) & ~isin(a, b))
    slots = np.concatenate([rng.permutation(out_first), rng.permutation(out_rest)])
    k = min(len(incoming), len(slots))
    mutant = a.copy()
    mutant[slots[:k]] = incoming[:k]
    return mutant


@dataclass(frozen=True)
class DESettings(AlgorithmSettings):
    """The default preset's DE/rand/1/bin over sets (the legacy DE has no settings)."""

    F: float = setting(
        0.5,
        "differential weight: each strategy of b held by neither a nor c enters the mutant "
        "with this probability",
        minimum=0,
        maximum=1,
    )
    CR: float = setting(
        0.3,
        "crossover rate: the trial takes each strategy of the mutant the member lacks with "
        "this probability (at least one)",
        minimum=0,
        maximum=1,
    )


class DE(BaseAlgorithm[DESettings]):
    name = "de"
    settings_class = DESettings

    def natural_budget(self, params: SearchParams[DESettings], n: int) -> int:
        return params.population + params.generations * params.population

    def _legacy(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[DESettings],
    ) -> None:
        pop = random_subsets(rng, ev.n_strategies, n, p.population)
        fit = t.evaluate(pop)
        # the legacy's best starts as the first member, not the best of the population
        t.best, t.best_fitness = None, -np.inf
        t.offer(pop[0], float(fit[0]))
        t.record()
        pop = pop[: len(fit)]
        size = len(pop)
        while t.remaining > 0 and size >= 2:
            partner = compiled.legacy_partners(rng, size)
            take = rng.random(pop.shape) < 0.5
            children = dedupe_rows(rng, ev.n_strategies, np.where(take, pop, pop[partner]))
            fit = t.evaluate(children)
            t.record()
            pop[: len(fit)] = children[: len(fit)]

    def _default(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[DESettings],
    ) -> None:
        f, cr = p.settings.F, p.settings.CR
        pop = random_subsets(rng, ev.n_strategies, n, p.population)
        fit = t.evaluate(pop)
        t.record()
        pop, fit = pop[: len(fit)], fit.copy()
        size = len(pop)
        if size < 4:
            raise ValueError("the default DE needs a population of at least 4")
        flags = compiled.scratch(ev.n_strategies)
        while t.remaining > 0:
            trials = compiled.de_trials(rng, pop, f, cr, flags)
            trial_fit = t.evaluate(trials)
            t.record()
            k = len(trial_fit)
            better = trial_fit >= fit[:k]
            pop[:k][better] = trials[:k][better]
            fit[:k][better] = trial_fit[better]
