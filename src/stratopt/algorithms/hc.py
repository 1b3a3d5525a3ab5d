"""HC: hill climbing with single-swap moves (Swapper, O(T) per move).

legacy: the legacy SA loop with 200 iterations (greedy, first improvement).
1 + 200 evaluations.

default: first-improvement hill climbing with random restarts. From a random
portfolio, single swaps (a random position, a random unused strategy) are
taken whenever they improve; after `patience` proposals in a row without an
improvement (a local optimum, as far as sampling can tell) the climb restarts
from a new random portfolio, keeping the best seen. Same 1 + 200 evaluations
by default; the restarts matter at larger budgets (--budget).

(Steepest ascent over a sampled neighbourhood was measured and dropped: at
these budgets it spends k evaluations per step for one move and finished
below the legacy's greedy climb on the real sample.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.sa import (
    apply,
    climbed,
    greedy_swaps,
    single_portfolio,
    start_swapper,
    swap_move,
)
from stratopt.algorithms.settings import AlgorithmSettings, setting
from stratopt.engine.climb import climb_score
from stratopt.engine.protocol import EvaluatorLike

LEGACY_ITERATIONS = 200


@dataclass(frozen=True)
class HCSettings(AlgorithmSettings):
    """The legacy climb's length and the default preset's restarts."""

    iterations: int = setting(
        LEGACY_ITERATIONS,
        "the legacy's swaps: a search spends 1 + iterations evaluations when no budget is set",
        minimum=1,
    )
    patience: int | None = setting(
        None,
        "default preset: non-improving proposals in a row before a restart",
        when_null="budget / 4, at least 50",
        minimum=1,
    )


class HC(BaseAlgorithm[HCSettings]):
    name = "hc"
    settings_class = HCSettings

    def natural_budget(self, params: SearchParams[HCSettings], n: int) -> int:
        return 1 + params.settings.iterations

    def _legacy(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[HCSettings],
    ) -> None:
        greedy_swaps(t, ev, n, rng)

    def _default(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[HCSettings],
    ) -> None:
        s = p.settings
        patience = max(50, t.budget // 4) if s.patience is None else s.patience
        if single_portfolio(t, ev, n, rng):
            return
        score = climb_score(ev, n)
        while t.remaining > 0:
            sw = start_swapper(t, ev, n, rng)
            if score is not None:  # the same climb, compiled
                climbed(t, sw, rng, score, sw.fitness, t.remaining, patience=patience)
                continue
            members = set(sw.indices.tolist())
            current = sw.fitness
            stuck = 0
            while t.remaining > 0 and stuck < patience:
                pos, new = swap_move(rng, ev.n_strategies, members, n)
                value = sw.propose(pos, new)
                if value > current:
                    apply(sw, members, pos, new)
                    current = value
                    t.offer(sw.indices, value)
                    stuck = 0
                else:
                    stuck += 1
                t.record()
