"""BO: Bayesian optimisation with a cheap surrogate on strategy inclusion.

legacy: G random portfolios, the best kept (the legacy's BO has no model).
G evaluations.

default: a Bayesian linear (ridge) surrogate f(S) ~ mean over i in S of w_i,
with prior w_i ~ N(0, tau^2) on standardised fitness. After an initial random
design of `initial` portfolios, each round refits the posterior (the m x m
dual system, m = portfolios fitted, at most `window` (300): the best half and
the latest; exact posterior means of all N weights in O(m^2 n + N)) and
proposes a batch of `batch` (budget / 100, at least 5) portfolios by
Thompson sampling: w~ = mean + explore * sd * noise (sd from the diagonal of
the posterior), the top n of w~ among strategies already seen, with a
fraction `fresh` of the places given to unseen strategies so that the model
keeps learning. Same G evaluations by default (the legacy count); the
pipeline's default preset gives it the common budget, G x P.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stratopt.algorithms.aco import sample_uniform
from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import draw_outside, random_subsets


class InclusionSurrogate:
    """Posterior of the additive model over strategy inclusion, refit from the data.

    The model is fitted on at most `window` portfolios (the best half and the
    most recent half): the dual system is m x m, so fitting all of a 3,000
    evaluation budget would cost O(m^3) per round. Below the window it is
    fitted on everything, as before.
    """

    def __init__(
        self, n_total: int, n: int, prior_var: float | None = None, window: int | None = None
    ) -> None:
        self.n_total = n_total
        self.n = n
        self.prior_var = float(prior_var if prior_var is not None else n)
        self.window = window
        self.sets: list[np.ndarray] = []
        self.values: list[float] = []
        self.seen = np.zeros(n_total, dtype=np.int64)  # every portfolio evaluated so far

    def add(self, sets: np.ndarray, values: np.ndarray) -> None:
        for s, v in zip(sets, values, strict=True):
            s = np.asarray(s, dtype=np.int64)
            self.sets.append(s)
            self.values.append(float(v))
            self.seen[s] += 1

    def fitted(self) -> np.ndarray:
        """Indices of the portfolios the model is fitted on, in the order they came."""
        m = len(self.sets)
        if self.window is None or m <= self.window:
            return np.arange(m)
        half = self.window // 2
        best = np.argsort(-np.asarray(self.values), kind="stable")[:half]
        recent = np.arange(m - (self.window - half), m)
        return np.union1d(best, recent)

    def posterior(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per strategy: posterior mean, posterior sd (diagonal) and how often it was seen."""
        idx = self.fitted()
        sets = [self.sets[i] for i in idx]
        y = np.asarray(self.values)[idx]
        stacked = np.stack(sets)
        overlap = np.empty((len(sets), len(sets)))
        member = np.zeros(self.n_total, dtype=bool)
        for a, s in enumerate(sets):  # |S_a and S_b| for every b: one row per call
            member[s] = True
            overlap[a] = member[stacked].sum(axis=1)
            member[s] = False
        sd = y.std()
        yz = (y - y.mean()) / (sd if sd > 0 else 1.0)
        tau2, n = self.prior_var, self.n
        gram = tau2 * overlap / (n * n) + np.eye(len(y))
        alpha = np.linalg.solve(gram, yz)
        flat = np.concatenate(sets)
        weights = np.repeat(alpha, [len(s) for s in sets])
        mean = tau2 / n * np.bincount(flat, weights=weights, minlength=self.n_total)
        counted = np.bincount(flat, minlength=self.n_total)
        post_sd = np.sqrt(tau2 / (1.0 + tau2 * counted / (n * n)))
        return mean, post_sd, self.seen


class Posterior:
    """One round's posterior, gathered once for the round's Thompson draws."""

    def __init__(self, mean: np.ndarray, sd: np.ndarray, seen: np.ndarray) -> None:
        self.n_total = len(mean)
        self.candidates = np.flatnonzero(seen > 0)
        self.mean = mean[self.candidates]
        self.sd = sd[self.candidates]
        self._unseen: np.ndarray | None = None

    def unseen(self) -> np.ndarray:
        """The strategies never evaluated, sorted (built once per round, when needed)."""
        if self._unseen is None:
            self._unseen = np.setdiff1d(np.arange(self.n_total, dtype=np.int64), self.candidates)
        return self._unseen

    def draw_fresh(self, rng: np.random.Generator, k: int) -> np.ndarray:
        """k unseen strategies: moves.draw_outside's draws, the complement built once a round."""
        free = self.n_total - len(self.candidates)
        if 2 * len(self.candidates) >= self.n_total or 4 * k >= free:
            return rng.choice(self.unseen(), k, replace=False)  # draw_outside's complement path
        return draw_outside(rng, self.n_total, self.candidates, k)


def thompson_portfolio(
    rng: np.random.Generator, post: Posterior, n: int, explore: float, fresh: float
) -> np.ndarray:
    """Top-n of a posterior draw among seen strategies, plus a few unseen ones."""
    candidates = post.candidates
    n_fresh = min(int(round(fresh * n)), post.n_total - len(candidates))
    n_seen = min(n - n_fresh, len(candidates))
    n_fresh = n - n_seen
    draw = post.mean + explore * post.sd * rng.standard_normal(len(candidates))
    chosen = candidates[np.argpartition(-draw, n_seen - 1)[:n_seen]] if n_seen else candidates[:0]
    if n_fresh:
        chosen = np.concatenate([chosen, post.draw_fresh(rng, n_fresh)])
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
        # at larger budgets (the pipeline's equal budget, G x P) bigger batches and a
        # bounded model keep a round's cost flat; at the legacy count (G) nothing changes
        batch = int(p.get("batch", max(5, t.budget // 100)))
        window = int(p.get("window", 300))
        explore = float(p.get("explore", 0.1))
        fresh = float(p.get("fresh", 0.1))
        model = InclusionSurrogate(n_total, n, p.get("prior_var", None), window)
        sets = random_subsets(rng, n_total, n, min(initial, t.remaining))
        fit = t.evaluate(sets)
        t.record_each(fit)
        model.add(sets, fit)
        while t.remaining > 0:
            post = Posterior(*model.posterior())
            k = min(batch, t.remaining)
            sets = np.stack([thompson_portfolio(rng, post, n, explore, fresh) for _ in range(k)])
            fit = t.evaluate(sets)
            t.record_each(fit)
            model.add(sets, fit)
