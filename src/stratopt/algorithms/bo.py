"""BO: Bayesian optimisation with a cheap surrogate on strategy inclusion.

legacy: G random portfolios, the best kept (the legacy's BO has no model).
G evaluations.

default: a Bayesian linear (ridge) surrogate f(S) ~ mean over i in S of w_i,
with prior w_i ~ N(0, tau^2) on standardised fitness. After an initial random
design of `initial` portfolios, each round refits the posterior (the m x m
dual system, m = portfolios evaluated so far: exact posterior means of all N
weights in O(m^2 n + N)) and proposes a batch of `batch` portfolios by
Thompson sampling: w~ = mean + explore * sd * noise (sd from the diagonal of
the posterior), the top n of w~ among strategies already seen, with a
fraction `fresh` of the places given to unseen strategies so that the model
keeps learning. Same G evaluations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stratopt.algorithms.aco import sample_uniform
from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import draw_outside, random_subsets


class InclusionSurrogate:
    """Posterior of the additive model over strategy inclusion, refit from all data."""

    def __init__(self, n_total: int, n: int, prior_var: float | None = None) -> None:
        self.n_total = n_total
        self.n = n
        self.prior_var = float(prior_var if prior_var is not None else n)
        self.sets: list[np.ndarray] = []
        self.values: list[float] = []
        self.overlap = np.zeros((0, 0))

    def add(self, sets: np.ndarray, values: np.ndarray) -> None:
        member = np.zeros(self.n_total, dtype=bool)
        for s, v in zip(sets, values, strict=True):
            member[:] = False
            member[s] = True
            counts = np.array([member[x].sum() for x in self.sets] + [len(s)], dtype=np.float64)
            m = len(self.sets)
            grown = np.zeros((m + 1, m + 1))
            grown[:m, :m] = self.overlap
            grown[m, :] = counts
            grown[:, m] = counts
            self.overlap = grown
            self.sets.append(np.asarray(s, dtype=np.int64))
            self.values.append(float(v))

    def posterior(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per strategy: posterior mean, posterior sd (diagonal) and how often it was seen."""
        y = np.asarray(self.values)
        sd = y.std()
        yz = (y - y.mean()) / (sd if sd > 0 else 1.0)
        tau2, n = self.prior_var, self.n
        gram = tau2 * self.overlap / (n * n) + np.eye(len(y))
        alpha = np.linalg.solve(gram, yz)
        flat = np.concatenate(self.sets)
        weights = np.repeat(alpha, [len(s) for s in self.sets])
        mean = tau2 / n * np.bincount(flat, weights=weights, minlength=self.n_total)
        seen = np.bincount(flat, minlength=self.n_total)
        post_sd = np.sqrt(tau2 / (1.0 + tau2 * seen / (n * n)))
        return mean, post_sd, seen


def thompson_portfolio(
    rng: np.random.Generator,
    mean: np.ndarray,
    sd: np.ndarray,
    seen: np.ndarray,
    n: int,
    explore: float,
    fresh: float,
) -> np.ndarray:
    """Top-n of a posterior draw among seen strategies, plus a few unseen ones."""
    candidates = np.flatnonzero(seen > 0)
    n_fresh = min(int(round(fresh * n)), len(mean) - len(candidates))
    n_seen = min(n - n_fresh, len(candidates))
    n_fresh = n - n_seen
    draw = mean[candidates] + explore * sd[candidates] * rng.standard_normal(len(candidates))
    chosen = candidates[np.argpartition(-draw, n_seen - 1)[:n_seen]] if n_seen else candidates[:0]
    if n_fresh:
        chosen = np.concatenate([chosen, draw_outside(rng, len(mean), candidates, n_fresh)])
    return chosen.astype(np.int64)


class BO(BaseAlgorithm):
    name = "bo"

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
        initial = int(p.get("initial", max(2, t.budget // 5)))
        batch = int(p.get("batch", 5))
        explore = float(p.get("explore", 0.1))
        fresh = float(p.get("fresh", 0.1))
        model = InclusionSurrogate(n_total, n, p.get("prior_var", None))
        sets = random_subsets(rng, n_total, n, min(initial, t.remaining))
        fit = t.evaluate(sets)
        t.record_each(fit)
        model.add(sets, fit)
        while t.remaining > 0:
            mean, sd, seen = model.posterior()
            k = min(batch, t.remaining)
            sets = np.stack(
                [thompson_portfolio(rng, mean, sd, seen, n, explore, fresh) for _ in range(k)]
            )
            fit = t.evaluate(sets)
            t.record_each(fit)
            model.add(sets, fit)
