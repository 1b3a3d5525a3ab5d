"""PSO: particle swarm optimisation over sets.

legacy: P random particles; each iteration evaluates all, keeps the global
best and mutates every particle with rate 0.05. No velocity, no attraction:
a random mutation walk. G * P evaluations.

default (set-based PSO): each particle remembers its personal best; every
iteration it is drawn towards its personal best and the global best: each
strategy of the personal best that the particle lacks comes in with
probability c1 * r1, each of the global best with probability c2 * r2 (r1, r2
uniform per particle and iteration, as in continuous PSO), replacing members
that neither best holds; then a small turbulence (rate `turbulence`, the
inertia's random part) keeps the swarm exploring. Same G * P evaluations.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratopt.algorithms import compiled
from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import random_subsets
from stratopt.algorithms.settings import AlgorithmSettings, setting
from stratopt.engine.protocol import EvaluatorLike

LEGACY_RATE = 0.05


@dataclass(frozen=True)
class PSOSettings(AlgorithmSettings):
    """The default preset's attraction and turbulence (the legacy PSO mutates at 0.05)."""

    c1: float = setting(
        0.5,
        "pull of the particle's own best: each of its strategies enters with probability c1 x r1",
        minimum=0,
    )
    c2: float = setting(
        0.5,
        "pull of the swarm's best: each of its strategies enters with probability c2 x r2",
        minimum=0,
    )
    turbulence: float = setting(
        0.02, "mutation rate after each move (the inertia's random part)", minimum=0, maximum=1
    )


class PSO(BaseAlgorithm[PSOSettings]):
    name = "pso"
    settings_class = PSOSettings

    def natural_budget(self, params: SearchParams[PSOSettings], n: int) -> int:
        return params.generations * params.population

    def _legacy(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[PSOSettings],
    ) -> None:
        swarm = random_subsets(rng, ev.n_strategies, n, p.population)
        flags = compiled.scratch(ev.n_strategies)
        while t.remaining > 0:
            fit = t.evaluate(swarm)
            t.record()
            swarm = compiled.mutate(rng, ev.n_strategies, swarm[: len(fit)], LEGACY_RATE, flags)

    def _default(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[PSOSettings],
    ) -> None:
        c1, c2, turbulence = p.settings.c1, p.settings.c2, p.settings.turbulence
        swarm = random_subsets(rng, ev.n_strategies, n, p.population)
        fit = t.evaluate(swarm)
        t.record()
        swarm = swarm[: len(fit)]
        pbest, pbest_fit = swarm.copy(), fit.copy()
        flags = compiled.scratch(ev.n_strategies)
        while t.remaining > 0:
            # the whole swarm's attraction moves in one compiled call
            moved = compiled.pso_attract(rng, swarm, pbest, t.best, c1, c2, flags)
            swarm = compiled.mutate(rng, ev.n_strategies, moved, turbulence, flags)
            fit = t.evaluate(swarm)
            t.record()
            k = len(fit)
            better = fit > pbest_fit[:k]
            pbest[:k][better] = swarm[:k][better]
            pbest_fit[:k][better] = fit[better]
