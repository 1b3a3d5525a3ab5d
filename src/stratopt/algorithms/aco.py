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

Cost: the loop never touches all N values per iteration (`Trail`): the
trail is stored as tau_i = max(scale * v_i, tau_min), so evaporation is one
multiplication of `scale`; the sampling weights v_i ** alpha sit in a sum
tree (stratopt.algorithms.sum_tree: drawn with replacement, a strategy the
ant holds drawn again, while it holds under half the weight), so an ant
costs O(n log N) instead of N Gumbel draws, and a deposit O(log N) per
strategy. The floor tau_min only binds after about log(N) / rho iterations
without a deposit; from then on each iteration rebuilds the tree (O(N)).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratopt.algorithms import compiled, sum_tree
from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import random_subsets
from stratopt.algorithms.settings import AlgorithmSettings, setting
from stratopt.engine.protocol import EvaluatorLike

#: Renormalise the lazy trail (v *= scale, scale = 1) before scale underflows.
SMALLEST_SCALE = 1e-150


def sample_ants(rng: np.random.Generator, log_weight: np.ndarray, n: int, ants: int) -> np.ndarray:
    """`ants` n-subsets, each drawn without replacement with probability proportional to exp(log_weight).

    The Gumbel top-k statement of the law the loop samples with its sum tree
    (Trail.sample: the same law, tested).
    """
    keys = log_weight[None, :] + rng.gumbel(size=(ants, len(log_weight)))
    return np.argpartition(-keys, n - 1, axis=1)[:, :n].astype(np.int64)


def sample_uniform(t: Tracker, n_total: int, n: int, rng: np.random.Generator) -> None:
    """The legacy ACO/BO: the whole budget as uniformly random portfolios, one batch."""
    sets = random_subsets(rng, n_total, n, t.remaining)
    t.record_each(t.evaluate(sets))


class Trail:
    """The MAX-MIN pheromone trail, tau_i = max(scale * v_i, tau_min), with its sum tree."""

    def __init__(
        self, n_total: int, alpha: float, rho: float, deposit: float, tau_max: float
    ) -> None:
        self.alpha = alpha
        self.rho = rho
        self.deposit = deposit
        self.tau_min = 1.0 / n_total
        self.tau_max = tau_max
        self.v = np.ones(n_total, dtype=np.float64)
        self.scale = 1.0
        self.leaves = 1 << max(0, (n_total - 1).bit_length())
        self.tree = np.zeros(2 * self.leaves, dtype=np.float64)
        self.flags = compiled.scratch(n_total)
        self._rebuild()

    def _rebuild(self) -> None:
        """All leaves from v (the floor tau_min applied), O(N)."""
        if self.scale < SMALLEST_SCALE:
            self.v *= self.scale
            self.scale = 1.0
        floored = np.maximum(self.v, self.tau_min / self.scale)
        self.v_min = float(self.v.min())
        sum_tree.tree_build(
            floored if self.alpha == 1.0 else floored**self.alpha, self.tree, self.leaves
        )

    def sample(self, rng: np.random.Generator, n: int, ants: int) -> np.ndarray:
        return sum_tree.sample_ants(rng, self.tree, self.leaves, n, ants, self.flags)

    def update(self, iteration_best: np.ndarray, best: np.ndarray) -> None:
        """Evaporate, then deposit on the iteration's best ant and the best so far, then clip."""
        self.scale *= 1.0 - self.rho
        if self.tau_min / self.scale > self.v_min or self.scale < SMALLEST_SCALE:
            self._rebuild()  # the floor binds somewhere: every leaf may change
        sum_tree.trail_deposit(
            self.v,
            self.tree,
            self.leaves,
            self.scale,
            (1.0 - self.rho) * self.tau_min,
            self.tau_min,
            self.tau_max,
            self.deposit,
            self.alpha,
            np.ascontiguousarray(iteration_best, dtype=np.int64),
            np.ascontiguousarray(best, dtype=np.int64),
            self.flags,
        )

    def tau(self) -> np.ndarray:
        """The trail itself (for tests): max(scale * v, tau_min)."""
        return np.maximum(self.scale * self.v, self.tau_min)


@dataclass(frozen=True)
class ACOSettings(AlgorithmSettings):
    """The default preset's colony (the legacy ACO samples uniformly)."""

    ants: int | None = setting(
        None,
        "portfolios sampled per iteration",
        when_null="budget / 10, at least 2 and at most the population",
        minimum=1,
    )
    alpha: float = setting(1.0, "exponent of the pheromone in the sampling weights", minimum=0)
    rho: float = setting(
        0.1, "share of the pheromone that evaporates per iteration", minimum=0, exclusive_maximum=1
    )
    deposit: float = setting(
        0.2,
        "what a deposit adds, as a share of the whole initial trail (times N / n per strategy)",
        minimum=0,
    )
    tau_max: float = setting(
        1.0, "a strategy's pheromone ceiling is 1 + tau_max x N / n (MAX-MIN bounds)", minimum=0
    )


class ACO(BaseAlgorithm[ACOSettings]):
    name = "aco"
    settings_class = ACOSettings

    def natural_budget(self, params: SearchParams[ACOSettings], n: int) -> int:
        return params.generations

    def _legacy(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[ACOSettings],
    ) -> None:
        sample_uniform(t, ev.n_strategies, n, rng)

    def _default(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[ACOSettings],
    ) -> None:
        s = p.settings
        n_total = ev.n_strategies
        ants = min(p.population, max(2, t.budget // 10)) if s.ants is None else s.ants
        deposit = s.deposit * n_total / n
        tau_max = 1.0 + s.tau_max * n_total / n
        trail = Trail(n_total, s.alpha, s.rho, deposit, tau_max)
        while t.remaining > 0:
            sets = trail.sample(rng, n, min(ants, t.remaining))
            fit = t.evaluate(sets)
            t.record_each(fit)
            trail.update(sets[int(np.argmax(fit))], t.best_indices)
