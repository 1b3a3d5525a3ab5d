"""SA: simulated annealing with single-swap moves (Swapper, O(T) per move).

legacy: start from a random portfolio; 1000 iterations of replacing one
random position with a random unused strategy, accepted only when strictly
better. No temperature: a greedy local search. 1 + 1000 evaluations.

default: the same move with Metropolis acceptance, exp(delta / T) for a
worse move, under a geometric cooling schedule from T0 to T0 * `final_ratio`
over the budget. T0 is calibrated from the moves themselves: the first
`calibration` proposals (part of the budget, acceptance greedy meanwhile) give
the median worsening |delta|, and T0 is set so that such a move is accepted
with probability `initial_accept`. The best portfolio seen is returned.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from stratopt.algorithms.base import BaseAlgorithm, SearchParams, Tracker
from stratopt.algorithms.moves import draw_one_outside, random_subsets
from stratopt.algorithms.settings import AlgorithmSettings, setting
from stratopt.engine.climb import Climb, climb, climb_score
from stratopt.engine.protocol import EvaluatorLike, SwapperLike

LEGACY_ITERATIONS = 1000


def start_swapper(t: Tracker, ev: EvaluatorLike, n: int, rng: np.random.Generator) -> SwapperLike:
    """A random portfolio, evaluated once (counted), under a Swapper."""
    start = random_subsets(rng, ev.n_strategies, n, 1)
    t.evaluate(start)
    t.record()
    return ev.swapper(start[0])


def single_portfolio(t: Tracker, ev: EvaluatorLike, n: int, rng: np.random.Generator) -> bool:
    """When n == N the portfolio of every strategy is the only one: evaluate it, no swaps."""
    if n < ev.n_strategies:
        return False
    t.evaluate(random_subsets(rng, ev.n_strategies, n, 1))
    t.record()
    return True


def swap_move(rng: np.random.Generator, n_total: int, members: set[int], n: int) -> tuple[int, int]:
    """A random position and a random strategy not in the portfolio."""
    pos = int(rng.integers(0, n))
    return pos, draw_one_outside(rng, n_total, members)


def climbed(
    t: Tracker,
    sw: SwapperLike,
    rng: np.random.Generator,
    score: np.ndarray,
    current: float,
    steps: int,
    **options: Any,
) -> Climb:
    """`steps` single-swap steps run by the compiled climb, recorded in the tracker."""
    best = np.array(t.best_indices, dtype=np.int64, copy=True)
    done = climb(sw, rng, score, steps, current, t.best_fitness, best, **options)  # type: ignore[arg-type]
    t.record_steps(done.trace, best if done.improved else None, done.best)
    return done


def apply(sw: SwapperLike, members: set[int], pos: int, new: int) -> None:
    members.discard(int(sw.indices[pos]))
    members.add(new)
    sw.accept(pos, new)


def greedy_swaps(t: Tracker, ev: EvaluatorLike, n: int, rng: np.random.Generator) -> None:
    """The legacy SA/HC loop: improve by single swaps until the budget is spent."""
    if single_portfolio(t, ev, n, rng):
        return
    sw = start_swapper(t, ev, n, rng)
    score = climb_score(ev, n)
    if score is not None:  # the same steps, compiled
        climbed(t, sw, rng, score, sw.fitness, t.remaining)
        return
    members = set(sw.indices.tolist())
    current = sw.fitness
    while t.remaining > 0:
        pos, new = swap_move(rng, ev.n_strategies, members, n)
        value = sw.propose(pos, new)
        if value > current:
            apply(sw, members, pos, new)
            current = value
            t.offer(sw.indices, value)
        t.record()


@dataclass(frozen=True)
class SASettings(AlgorithmSettings):
    """The legacy loop's length and the default preset's cooling."""

    iterations: int = setting(
        LEGACY_ITERATIONS,
        "the legacy's swaps: a search spends 1 + iterations evaluations when no budget is set",
        minimum=1,
    )
    initial_accept: float = setting(
        0.3,
        "probability of accepting a median worsening move at the start (sets T0)",
        exclusive_minimum=0,
        exclusive_maximum=1,
    )
    final_ratio: float = setting(
        1e-3,
        "the last temperature as a share of T0 (geometric cooling over the budget)",
        exclusive_minimum=0,
        maximum=1,
    )
    calibration: int | None = setting(
        None,
        "first proposals (accepted greedily) whose worsenings calibrate T0",
        when_null="the moves / 20, between 1 and 50",
        minimum=1,
    )


class SA(BaseAlgorithm[SASettings]):
    name = "sa"
    settings_class = SASettings

    def natural_budget(self, params: SearchParams[SASettings], n: int) -> int:
        return 1 + params.settings.iterations

    def _legacy(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[SASettings],
    ) -> None:
        greedy_swaps(t, ev, n, rng)

    def _default(
        self,
        t: Tracker,
        ev: EvaluatorLike,
        n: int,
        rng: np.random.Generator,
        p: SearchParams[SASettings],
    ) -> None:
        s = p.settings
        initial_accept, final_ratio = s.initial_accept, s.final_ratio
        if single_portfolio(t, ev, n, rng):
            return
        sw = start_swapper(t, ev, n, rng)
        current = sw.fitness
        moves = max(t.remaining, 1)
        calibration = max(1, min(50, moves // 20)) if s.calibration is None else s.calibration
        score = climb_score(ev, n)
        if score is not None:  # the same steps, compiled
            self._anneal_compiled(t, sw, rng, score, current, moves, calibration, s)
            return
        members = set(sw.indices.tolist())
        worsening: list[float] = []
        temperature = 0.0
        cooling = 1.0
        step = 0
        while t.remaining > 0:
            pos, new = swap_move(rng, ev.n_strategies, members, n)
            value = sw.propose(pos, new)
            delta = value - current
            if step < calibration:
                if delta < 0:
                    worsening.append(-delta)
                accept = delta > 0
                if step == calibration - 1:
                    scale = float(np.median(worsening)) if worsening else abs(current) * 1e-3
                    temperature = scale / -math.log(initial_accept) if scale > 0 else 1e-12
                    left = max(moves - calibration, 1)
                    cooling = final_ratio ** (1.0 / left)
            else:
                accept = delta > 0 or rng.random() < math.exp(delta / temperature)
                temperature *= cooling
            if accept:
                apply(sw, members, pos, new)
                current = value
                t.offer(sw.indices, value)
            t.record()
            step += 1

    @staticmethod
    def _anneal_compiled(  # noqa: PLR0913
        t: Tracker,
        sw: SwapperLike,
        rng: np.random.Generator,
        score: np.ndarray,
        current: float,
        moves: int,
        calibration: int,
        s: SASettings,
    ) -> None:
        """_default's loop by the compiled climb: the greedy calibration steps, T0 and the
        cooling from them (as the loop computes them at its last calibration step), then
        the Metropolis steps."""
        first = climbed(
            t, sw, rng, score, current, min(calibration, t.remaining), keep_worsening=calibration
        )
        if first.steps < calibration:
            return  # the budget ended first
        worsening = first.worsening.tolist()
        scale = float(np.median(worsening)) if worsening else abs(first.before_last) * 1e-3
        temperature = scale / -math.log(s.initial_accept) if scale > 0 else 1e-12
        cooling = s.final_ratio ** (1.0 / max(moves - calibration, 1))
        if t.remaining > 0:
            climbed(
                t, sw, rng, score, first.current, t.remaining,
                anneal=True, temperature=temperature, cooling=cooling,
            )  # fmt: skip
