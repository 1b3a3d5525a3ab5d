"""Single-swap search loops run whole in compiled code (kernels._climb).

Why: SA and HC spend about 17 us a step at n = 35, of which the proposal's
kernel is about 1 us: the rest is Python (two draws, the Swapper's call, the
objective on floats, the tracker). A climb runs the steps in one kernel call
with the same draws, the same arithmetic and the same acceptance, so a search
returns the same portfolio, fitness and trace as its Python loop
(tests/algorithms/test_climb.py holds them equal on many seeds).

It applies where the Swapper's proposals are scored by the numba kernels with
an objective ported to them (`ratio`, `guarded ratio`), outside balanced and
zone modes, and where a strategy outside the set is drawn by rejection
(2 n < N, as stratopt.algorithms.moves.draw_one_outside does); elsewhere
`climb_score` is None and the algorithms keep their Python loops.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy

from stratopt.engine.evaluator import REFRESH_EVERY, Evaluator, Swapper
from stratopt.engine.kernel_score import kernel_score


@dataclass
class Climb:
    """What a climb did: `steps` proposals (trace[k] the best after step k)."""

    steps: int
    trace: numpy.ndarray
    current: float
    best: float
    improved: bool
    before_last: float  # the current fitness before the last step's acceptance
    worsening: numpy.ndarray


def climb_score(ev: object, n: int) -> numpy.ndarray | None:
    """The kernel's objective parameters for portfolios of n, or None where it does not apply."""
    kernels = getattr(ev, "_kernels", None)
    if not isinstance(ev, Evaluator) or kernels is None or not hasattr(kernels, "_climb"):
        return None
    if 2 * n >= ev.n_strategies:
        return None
    return kernel_score(ev)


def climb(  # noqa: PLR0913
    sw: Swapper,
    rng: numpy.random.Generator,
    score: numpy.ndarray,
    steps: int,
    current: float,
    best: float,
    best_idx: numpy.ndarray,
    *,
    patience: int = 0,
    stuck: int = 0,
    anneal: bool = False,
    temperature: float = 0.0,
    cooling: float = 1.0,
    keep_worsening: int = 0,
) -> Climb:
    """Up to `steps` single-swap steps on `sw` (fewer when `patience` failures in a row
    stop it); best_idx is overwritten when the best improves. The Swapper's state
    follows every accepted swap, refreshed every REFRESH_EVERY of them as
    Swapper.accept does, and the evaluator counts each step."""
    ev = sw._ev
    kernels = ev._kernels
    if kernels is None:
        raise RuntimeError("a compiled climb needs the evaluator's numba kernels")
    rows = ev._rows
    trace = numpy.empty(max(int(steps), 0))
    worsening = numpy.empty(int(keep_worsening))
    state = numpy.zeros(10)
    done = kept = 0
    improved = False
    before_last = float(current)
    while done < steps and (patience <= 0 or stuck < patience):
        accepted_before = sw._accepted
        kernels._climb(
            rng, rows.r, rows.mean, rows.scale, rows.sq_host, int(rows.n_days), sw._acc,
            float(sw._sumsq), sw.indices, sw._member, int(ev.n_strategies), score,
            float(current), float(best), best_idx, int(steps - done), int(sw._accepted),
            int(REFRESH_EVERY), int(patience), int(stuck), bool(anneal), float(temperature),
            float(cooling), worsening[kept:], trace[done:], state,
        )  # fmt: skip
        k = int(state[5])
        done += k
        ev.evaluations += k
        current, best = float(state[0]), float(state[2])
        sw._sumsq = float(state[1])
        temperature = float(state[3])
        before_last = float(state[4])
        sw._accepted = int(state[6])
        stuck = int(state[7])
        kept += int(state[8])
        improved = improved or bool(state[9])
        if sw._accepted != accepted_before:
            sw.fitness = current
            sw._last = None
            if sw._accepted % REFRESH_EVERY == 0 and stuck == 0:
                sw._refresh()  # the kernel stopped after the swap that is due one
    return Climb(
        steps=done,
        trace=trace[:done],
        current=current,
        best=best,
        improved=improved,
        before_last=before_last,
        worsening=worsening[:kept],
    )
