"""ACO: ant colony optimisation with one pheromone value per strategy.

legacy: G random portfolios, the best kept (the legacy's ACO never uses its
pheromone). G evaluations.

default: a pheromone vector tau of N values (never N x N), all 1 at first.
Each iteration `ants` portfolios are sampled, each drawing n distinct
strategies with probability proportional to tau^alpha (Gumbel top-k: exactly
sequential sampling without replacement). The pheromone evaporates,
tau *= (1 - rho), then the iteration's best ant and the best so far deposit:
each of their strategies gains `deposit` * N / n (so a deposit is worth
`deposit` times the whole initial trail), with tau kept within
[tau_min, tau_max] as in MAX-MIN ant systems so that no strategy is ever
ruled out. Same G evaluations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import random_subsets


def sample_ants(rng: np.random.Generator, log_weight: np.ndarray, n: int, ants: int) -> np.ndarray:
    """`ants` n-subsets, each drawn without replacement with probability proportional to exp(log_weight)."""
    keys = log_weight[None, :] + rng.gumbel(size=(ants, len(log_weight)))
    return np.argpartition(-keys, n - 1, axis=1)[:, :n].astype(np.int64)


def sample_uniform(t: Tracker, n_total: int, n: int, rng: np.random.Generator) -> None:
    """The legacy ACO/BO: the whole budget as uniformly random portfolios, one batch."""
    sets = random_subsets(rng, n_total, n, t.remaining)
    t.record_each(t.evaluate(sets))


class ACO(BaseAlgorithm):
    name = "aco"

    def natural_budget(self, params: SearchParams, n: int) -> int:
        return params.generations

    def _legacy(
        self, t: Tracker, ev: Any, n: int, rng: np.random.Generator, p: SearchParams
    ) -> None:
        sample_uniform(t, ev.n_strategies, n, rng)

    def _default(
        self, t: Tracker, ev: Any, n: int, rng: np.random.Generator, p: SearchParams
    ) -> None:
        n_total = ev.n_strategies
        ants = int(p.get("ants", min(p.population, max(2, t.budget // 10))))
        alpha = float(p.get("alpha", 1.0))
        rho = float(p.get("rho", 0.1))
        deposit = float(p.get("deposit", 0.2)) * n_total / n
        tau_min, tau_max = 1.0 / n_total, 1.0 + float(p.get("tau_max", 1.0)) * n_total / n
        tau = np.ones(n_total, dtype=np.float64)
        while t.remaining > 0:
            sets = sample_ants(rng, alpha * np.log(tau), n, min(ants, t.remaining))
            fit = t.evaluate(sets)
            t.record_each(fit)
            tau *= 1.0 - rho
            tau[sets[int(np.argmax(fit))]] += deposit
            tau[t.best] += deposit
            np.clip(tau, tau_min, tau_max, out=tau)
