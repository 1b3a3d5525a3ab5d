"""RS: random search, new in stratopt (the legacy has no RS).

Uniformly random n-subsets, evaluated in batches of P, the best kept. Both
presets are this loop; the natural budget is G * P samples, the GA's count,
so that RS is the "no search at all" yardstick for the same work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import random_subsets


def sample_randomly(t: Tracker, n_total: int, n: int, rng: np.random.Generator, batch: int) -> None:
    """Spend the budget on random portfolios, `batch` per evaluation call."""
    while t.remaining > 0:
        t.evaluate(random_subsets(rng, n_total, n, min(batch, t.remaining)))
        t.record()


class RS(BaseAlgorithm):
    name = "rs"

    def natural_budget(self, params: SearchParams, n: int) -> int:
        return params.generations * params.population

    def _legacy(self, t: Tracker, ev: Any, n: int, rng: np.random.Generator, p: SearchParams) -> None:
        sample_randomly(t, ev.n_strategies, n, rng, p.population)

    _default = _legacy
