"""BO: Bayesian optimisation with a cheap surrogate on strategy inclusion.

legacy: G random portfolios, the best kept (the legacy's BO has no model).
G evaluations.

default: a Bayesian linear (ridge) surrogate f(S) ~ mean over i in S of w_i,
with prior w_i ~ N(0, tau^2) on standardised fitness. After an initial random
design of `initial` portfolios, each round refits the posterior (the m x m
dual system, m = portfolios in the model, kept as a Cholesky factor that
grows by a row per observation: exact posterior means of the seen
strategies in O(m^2 + m n)) and proposes a batch of `batch` portfolios by
Thompson sampling: w~ = mean + explore * sd * noise (sd from the diagonal of
the posterior), the top n of w~ among strategies already seen, with a
fraction `fresh` of the places given to unseen strategies so that the model
keeps learning. The model holds at most `max_model` (128) portfolios; when
full it keeps the better half. Batches of `batch` (budget / 100, at least 5)
keep a round's cost flat at large budgets. Same G evaluations by default (the
legacy count); the pipeline's default preset gives it the common budget, G x P.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratopt.algorithms import bo_algebra
from stratopt.algorithms.aco import sample_uniform
from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import random_subsets
from stratopt.algorithms.settings import AlgorithmSettings, setting
from stratopt.engine.protocol import EvaluatorLike


class InclusionSurrogate:
    """Posterior of the additive model over strategy inclusion, kept up to date per observation.

    G = I + (tau^2 / n^2) * overlap (overlap_jk = |S_j & S_k|, the dual system
    of the ridge model) is held as its Cholesky factor and grows by one row
    per observation (O(m n + m^2), stratopt.algorithms.bo_algebra.bo_append)
    instead of being solved afresh each round (O(m^3)). At most `max_model`
    observations are kept: when full, the better half stays and the factor
    is rebuilt, so that large budgets cost O(max_model^2) per evaluation.
    """

    def __init__(
        self, n_total: int, n: int, prior_var: float | None = None, max_model: int = 128
    ) -> None:
        self.n_total = n_total
        self.n = n
        self.prior_var = float(prior_var if prior_var is not None else n)
        self.max_model = max(2, int(max_model))
        self.m = 0
        self.sets = np.zeros((self.max_model, n), dtype=np.int64)
        self.values = np.zeros(self.max_model, dtype=np.float64)
        self.chol = np.zeros((self.max_model, self.max_model), dtype=np.float64)
        self.seen = np.zeros(n_total, dtype=np.int64)
        self.is_cand = np.zeros(n_total, dtype=np.bool_)
        self.cand = np.zeros(n_total, dtype=np.int64)
        self.n_cand = 0
        self.mean = np.zeros(n_total, dtype=np.float64)
        #: per strategy, bo_algebra._overlaps' scratch (zero between calls)
        self._masks = np.zeros(n_total, dtype=np.uint64)

    def add(self, sets: np.ndarray, values: np.ndarray) -> None:
        """Observe each portfolio in order (one compiled call: bo_algebra.bo_add)."""
        self.m, self.n_cand = bo_algebra.bo_add(
            np.ascontiguousarray(sets, dtype=np.int64),
            np.ascontiguousarray(values, dtype=np.float64),
            self.sets,
            self.values,
            self.m,
            self.chol,
            self.prior_var / (self.n * self.n),
            self._masks,
            self.seen,
            self.is_cand,
            self.cand,
            self.n_cand,
        )

    def refit(self) -> None:
        """The posterior means of the seen strategies from every observation in the model."""
        bo_algebra.bo_posterior_mean(
            self.sets,
            self.m,
            self.values,
            self.chol,
            self.prior_var / self.n,
            self.mean,
            self.cand,
            self.n_cand,
        )

    def posterior(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per strategy: posterior mean, posterior sd (diagonal) and how often it was seen."""
        self.refit()
        tau2, n = self.prior_var, self.n
        post_sd = np.sqrt(tau2 / (1.0 + tau2 * self.seen / (n * n)))
        return self.mean, post_sd, self.seen

    def propose(
        self,
        rng: np.random.Generator,
        count: int,
        explore: float,
        fresh: float,
        shortlist: float | None = None,
    ) -> np.ndarray:
        """`count` Thompson-sampling portfolios from the current posterior (refit() first);
        `shortlist` x n candidates drawn over (None: all)."""
        n = self.n
        n_fresh = min(int(round(fresh * n)), self.n_total - self.n_cand)
        n_seen = min(n - n_fresh, self.n_cand)
        n_fresh = n - n_seen
        out = np.empty((count, n), dtype=np.int64)
        bo_algebra.bo_propose(
            rng,
            self.mean,
            self.seen,
            self.cand,
            self.n_cand,
            self.is_cand,
            n_seen,
            n_fresh,
            self.prior_var,
            explore,
            self.n_cand if shortlist is None else max(1, int(round(shortlist * n))),
            out,
        )
        return out


@dataclass(frozen=True)
class BOSettings(AlgorithmSettings):
    """The default preset's surrogate and proposals (the legacy BO samples uniformly)."""

    initial: int | None = setting(
        None,
        "random portfolios evaluated before the model proposes",
        when_null="budget / 5, at least 2",
        minimum=1,
    )
    batch: int | None = setting(
        None,
        "portfolios proposed per round (one refit of the model per round)",
        when_null="budget / 100, at least 5",
        minimum=1,
    )
    explore: float = setting(
        0.1, "Thompson sampling's noise, in posterior standard deviations", minimum=0
    )
    fresh: float = setting(
        0.1, "share of a proposal's places given to strategies not seen yet", minimum=0, maximum=1
    )
    prior_var: float | None = setting(
        None,
        "prior variance of a strategy's weight (the fitness standardised)",
        when_null="the portfolio size n",
        exclusive_minimum=0,
    )
    max_model: int = setting(
        128, "portfolios the model holds; when full it keeps the better half", minimum=2
    )
    shortlist: float | None = setting(
        4.0,
        "a proposal's Thompson draw covers this many candidates per portfolio place, those "
        "of highest posterior mean + 2 noise scales (chosen once per round)",
        when_null="every strategy seen (the law before 2026-12-01)",
        minimum=1,
    )


class BO(BaseAlgorithm[BOSettings]):
    name = "bo"
    settings_class = BOSettings

    def natural_budget(self, params: SearchParams[BOSettings], n: int) -> int:
        return params.generations

    def _legacy(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[BOSettings],
    ) -> None:
        sample_uniform(t, ev.n_strategies, n, rng)

    def _default(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[BOSettings],
    ) -> None:
        s = p.settings
        n_total = ev.n_strategies
        initial = max(2, t.budget // 5) if s.initial is None else s.initial
        # at larger budgets (the pipeline's equal budget, G x P) bigger batches and a
        # bounded model keep a round's cost flat; at the legacy count (G) nothing changes
        batch = max(5, t.budget // 100) if s.batch is None else s.batch
        explore, fresh = s.explore, s.fresh
        model = InclusionSurrogate(n_total, n, s.prior_var, s.max_model)
        sets = random_subsets(rng, n_total, n, min(initial, t.remaining))
        fit = t.evaluate(sets)
        t.record_each(fit)
        model.add(sets, fit)
        while t.remaining > 0:
            model.refit()
            sets = model.propose(rng, min(batch, t.remaining), explore, fresh, s.shortlist)
            fit = t.evaluate(sets)
            t.record_each(fit)
            model.add(sets, fit)
