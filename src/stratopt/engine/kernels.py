"""Compiled CPU kernels (numba) for the evaluator's hot loops, when the backend is NumPy.

Why: a NumPy evaluation of a population is a chain of whole-array passes
(gather, add, cumsum, running max, ...), each re-reading (P, T) arrays, and
NumPy's accumulate along 82-day rows runs at ~7 ns per element. These kernels
do one pass per portfolio: sum the chosen rows of W = [r | z] into a local
accumulator, then read the day series once for the sufficient statistics of
stratopt.engine.objectives (ROI, max drawdown, win/loss counts and sums) and |sum z|^2.
The arithmetic is the same, in the same order, as the array-module path of
stratopt.engine.evaluator (rows summed in set order, p_t = acc_t / n, equity summed
day by day), so both paths give the same numbers. Measured gain: docs/engine.md.

Stats columns: 0 roi, 1 max_dd, 2 n_win, 3 n_lose, 4 gains, 5 loss, 6 |sum z|^2,
7 sum |z_i|^2, 8 sum of p_t^2 (the portfolio's sum of squares: its standard
deviation, for the guarded ratio). Column 8 is accumulated beside the others
and changes none of them, so every other metric's numbers are the same bits.
"""

from __future__ import annotations

import types

import numba as nb
import numpy as np

N_STATS = 9


@nb.njit(cache=True, inline="always")
def _stats_of(acc, t, n, sumsq, out):  # noqa: ANN001, ANN202 - numba kernel
    equity = 0.0
    peak = 0.0
    dd = 0.0
    n_win = 0
    n_lose = 0
    gains = 0.0
    loss = 0.0
    sq = 0.0
    for k in range(t):
        x = acc[k] / n
        equity += x
        sq += x * x
        if k == 0 or equity > peak:
            peak = equity
        if peak - equity > dd:
            dd = peak - equity
        if x > 0:
            n_win += 1
            gains += x
        elif x < 0:
            n_lose += 1
            loss -= x
    zz = 0.0
    for k in range(t, 2 * t):
        zz += acc[k] * acc[k]
    out[0] = equity
    out[1] = dd
    out[2] = n_win
    out[3] = n_lose
    out[4] = gains
    out[5] = loss
    out[6] = zz
    out[7] = sumsq
    out[8] = sq


def _population_stats(w, sets, t, sq, out):  # noqa: ANN001, ANN202 - numba kernel
    """out[p] = stats of the portfolio sets[p] (rows of w summed in set order)."""
    p_count, n = sets.shape
    width = w.shape[1]
    for p in nb.prange(p_count):
        acc = np.zeros(width)
        sumsq = 0.0
        for j in range(n):
            row = sets[p, j]
            sumsq += sq[row]
            for k in range(width):
                acc[k] += w[row, k]
        _stats_of(acc, t, n, sumsq, out[p])


def _renamed(fn, name: str):  # noqa: ANN001, ANN202
    """The same function under another name: numba keys its on-disk cache by the
    function's qualified name and line, not by `parallel=`, so two dispatchers of one
    function share a cache entry and the serial one could load the parallel build
    (then a process that later forks its workers dies: "fork() called from a process
    already using GNU OpenMP")."""
    code = fn.__code__.replace(co_name=name, co_qualname=name)
    return types.FunctionType(code, fn.__globals__, name)


#: One thread: small batches, where waking a thread pool costs more than it saves.
population_stats_serial = nb.njit(cache=True, nogil=True)(_population_stats)
#: All threads (numba's pool, NUMBA_NUM_THREADS): large batches; its own cache entry.
population_stats_parallel = nb.njit(parallel=True, cache=True, nogil=True)(
    _renamed(_population_stats, "_population_stats_parallel")
)
#: Rows from which a batch is split across threads.
PARALLEL_ROWS = 256


def population_stats(w, sets, t, sq, out) -> None:  # noqa: ANN001
    kernel = population_stats_parallel if len(sets) >= PARALLEL_ROWS else population_stats_serial
    kernel(w, sets, t, sq, out)


@nb.njit(cache=True, nogil=True)
def swap_stats(base, w, old, new, t, n, base_sumsq, sq, out):  # noqa: ANN001, ANN201
    """out[q] = stats of the current set with old[q] replaced by new[q] (base = its row sum)."""
    width = w.shape[1]
    acc = np.empty(width)
    for q in range(len(new)):
        a = old[q]
        b = new[q]
        for k in range(width):
            acc[k] = (base[k] + w[b, k]) - w[a, k]
        _stats_of(acc, t, n, (base_sumsq - sq[a]) + sq[b], out[q])
