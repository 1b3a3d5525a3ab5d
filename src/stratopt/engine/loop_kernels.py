"""The compiled kernels' population statistics in plain Python, for a few portfolios.

Why: the select stage scores one winner per size (66 on the default run). With
stratopt.engine.kernels that meant loading numba, LLVM and numba's BLAS check
(scipy.linalg): about 1 s of CPU and 100 MB of memory for a millisecond of
arithmetic. This module does the arithmetic of kernels._population_stats and
kernels._stats_of with the same operations in the same order (rows of W made from
the compact rows as the kernels make them, added in set order to a zeroed
accumulator, p_t = acc_t / n, every sum day by day; numba compiles without
fast-math, so neither reorders nor fuses): the same bits, at
about 50 us per portfolio, far too slow for a search. Evaluator(compiled="python")
selects it; tests/engine/test_loop_kernels.py compares it with the kernels.
"""

from __future__ import annotations

import numpy as np

from stratopt.engine.rows import Rows

N_STATS = 9


def _row(rows: Rows, i: int) -> np.ndarray:
    """W[i] = [r_i | (r_i - mean_i) * scale_i], the operations of kernels._add_row."""
    r = rows.r[i]
    return np.concatenate([r, (r - rows.mean[i]) * rows.scale[i]])


def population_stats(rows: Rows, sets: np.ndarray, out: np.ndarray, parallel: bool = True) -> None:
    """out[p] = stats of the portfolio sets[p] (`parallel` is ignored: one thread)."""
    del parallel
    n = sets.shape[1]
    t = rows.n_days
    for p in range(sets.shape[0]):
        acc = np.zeros(2 * t)
        sumsq = 0.0
        for row in sets[p].tolist():
            sumsq += float(rows.sq_host[row])
            acc += _row(rows, row)
        out[p] = stats_of(acc.tolist(), t, n, sumsq)


def stats_of(acc: list[float], t: int, n: int, sumsq: float) -> list[float]:
    """kernels._stats_of on a row sum: roi, max_dd, n_win, n_lose, gains, loss, zz, sumsq, sq."""
    equity = peak = dd = gains = loss = sq = 0.0
    n_win = n_lose = 0
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
    return [equity, dd, n_win, n_lose, gains, loss, zz, sumsq, sq]


def swap_stats(
    base: np.ndarray,
    rows: Rows,
    old: np.ndarray,
    new: np.ndarray,
    n: int,
    base_sumsq: float,
    out: np.ndarray,
) -> None:
    """kernels.swap_stats: out[q] = stats of the set with old[q] replaced by new[q]."""
    sq = rows.sq_host
    for q, (a, b) in enumerate(zip(old.tolist(), new.tolist(), strict=True)):
        acc = (base + _row(rows, b)) - _row(rows, a)
        sumsq = (float(base_sumsq) - float(sq[a])) + float(sq[b])
        out[q] = stats_of(acc.tolist(), rows.n_days, n, sumsq)


def set_sum(rows: Rows, idx: np.ndarray) -> np.ndarray:
    """kernels.set_sum: W's rows idx[0], idx[1], ... added in order (the first copied)."""
    members = idx.tolist()
    acc = _row(rows, members[0])
    for row in members[1:]:
        acc += _row(rows, row)
    return acc


def swap_into(acc: np.ndarray, rows: Rows, old: int, new: int) -> None:
    """kernels.swap_into: acc := (acc + W[new]) - W[old], in place."""
    acc[:] = (acc + _row(rows, new)) - _row(rows, old)
