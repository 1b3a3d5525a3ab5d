"""RS: random search, new in stratopt (the legacy has no RS).

Uniformly random n-subsets, evaluated in batches of 1000, the best kept. Both
presets are this loop; the natural budget is G * P samples, the GA's count,
so that RS is the "no search at all" yardstick for the same work.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import random_subsets
from stratopt.algorithms.settings import AlgorithmSettings
from stratopt.engine.protocol import EvaluatorLike

BATCH = 1000  # portfolios per evaluation call: RS has no generations to wait for


def sample_randomly(t: Tracker, n_total: int, n: int, rng: np.random.Generator) -> None:
    """Spend the budget on random portfolios, one trace entry per portfolio."""
    while t.remaining > 0:
        t.record_each(t.evaluate(random_subsets(rng, n_total, n, min(BATCH, t.remaining))))


@dataclass(frozen=True)
class RSSettings(AlgorithmSettings):
    """None of its own: random portfolios until the budget is spent."""


class RS(BaseAlgorithm[RSSettings]):
    name = "rs"
    settings_class = RSSettings

    def natural_budget(self, params: SearchParams[RSSettings], n: int) -> int:
        return params.generations * params.population

    def _legacy(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[RSSettings],
    ) -> None:
        sample_randomly(t, ev.n_strategies, n, rng)

    _default = _legacy
