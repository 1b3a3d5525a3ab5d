"""HC: hill climbing with single-swap moves.

legacy: the legacy SA loop with 200 iterations (greedy, first improvement).
1 + 200 evaluations.

default: steepest ascent with restarts. Each step proposes `neighbours`
random single swaps as one batch (Swapper.propose_many) and takes the best
if it improves; after `patience` steps without improvement (a local optimum
of the sampled neighbourhood) it restarts from a new random portfolio,
keeping the best seen.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import draw_outside
from stratopt.algorithms.sa import greedy_swaps, start_swapper

LEGACY_ITERATIONS = 200


class HC(BaseAlgorithm):
    name = "hc"

    def natural_budget(self, params: SearchParams, n: int) -> int:
        return 1 + int(params.get("iterations", LEGACY_ITERATIONS))

    def _legacy(self, t: Tracker, ev: Any, n: int, rng: np.random.Generator, p: SearchParams) -> None:
        greedy_swaps(t, ev, n, rng)

    def _default(self, t: Tracker, ev: Any, n: int, rng: np.random.Generator, p: SearchParams) -> None:
        neighbours = int(p.get("neighbours", 4))
        patience = int(p.get("patience", 25))
        n_total = ev.n_strategies
        while t.remaining > 0:
            sw = start_swapper(t, ev, n, rng)
            stuck = 0
            while t.remaining > 0 and stuck < patience:
                k = min(neighbours, t.remaining, n_total - n)
                if k <= 0:
                    return
                pos = rng.integers(0, n, size=k)
                new = draw_outside(rng, n_total, sw.indices, k)
                values = sw.propose_many(pos, new)
                best = int(np.argmax(values))
                if values[best] > sw.fitness:
                    sw.accept(int(pos[best]), int(new[best]))
                    t.offer(sw.indices, float(values[best]))
                    stuck = 0
                else:
                    stuck += 1
                t.record()
