"""Compiled CPU kernels (numba) for the evaluator's hot loops, when the backend is NumPy.

Why: a NumPy evaluation of a population is a chain of whole-array passes
(gather, add, cumsum, running max, ...), each re-reading (P, T) arrays, and
NumPy's accumulate along 82-day rows runs at ~7 ns per element. These kernels
do one pass per portfolio: sum the chosen rows of W = [r | z] into a local
accumulator (z made from r as it is read: stratopt.engine.rows), then read the day series once for the sufficient statistics of
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

import math
import types

import numba as nb
import numpy as np
from llvmlite import ir
from numba.extending import intrinsic

from stratopt.engine.numba_setup import skip_blas_check

skip_blas_check()  # numba without its scipy BLAS check (engine/numba_setup.py)

N_STATS = 9


@nb.njit(cache=True, inline="always")
def _stats_of(acc, t, n, sumsq, out):  # noqa: ANN001, ANN202 - numba kernel
    # stratopt.engine.loop_kernels.stats_of is this in Python (select's few portfolios,
    # without numba); it stays a copy: numba's cache does not see a change in a function
    # of another file, so a compiled kernel inlining it could run stale code.
    # tests/engine/test_loop_kernels.py holds the two to the same bits.
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


@intrinsic
def _prefetch(typingctx, arr, index):  # noqa: ANN001, ANN202 - numba intrinsic
    """A hint to fetch arr.ravel()[index]'s cache line (llvm.prefetch): no effect on results."""
    sig = nb.types.void(arr, index)

    def codegen(context, builder, signature, args):  # noqa: ANN001, ANN202
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        byte_ptr = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", fnty=ir.FunctionType(ir.VoidType(), [byte_ptr, i32, i32, i32])
        )
        where = builder.bitcast(builder.gep(data, [args[1]]), byte_ptr)
        # read, high temporal locality, data cache
        builder.call(fn, [where, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


#: Rows ahead of the one being summed whose cache lines are asked for: the rows of a
#: portfolio are scattered over W (33 MB on the production shape, no cache holds it),
#: and a row's start waited on memory. Measured: docs/engine.md.
PREFETCH_AHEAD = 2
#: float64 per cache line
LINE = 8


@nb.njit(cache=True, inline="always")
def _add_row(acc, r, mean, scale, row, t):  # noqa: ANN001, ANN202 - numba kernel
    """acc += W[row] = [r_row | (r_row - mean_row) * scale_row] (stratopt.engine.rows)."""
    m = mean[row]
    s = scale[row]
    for k in range(t):
        v = r[row, k]
        acc[k] += v
        acc[t + k] += (v - m) * s


@nb.njit(cache=True, inline="always")
def _portfolio_stats(r, flat, mean, scale, members, t, sq, acc, out):  # noqa: ANN001, ANN202, PLR0913
    """out = stats of one portfolio (rows of W summed in `members` order); acc: 2T zeros."""
    n = members.shape[0]
    sumsq = 0.0
    for j in range(n):
        ahead = j + PREFETCH_AHEAD
        if ahead < n:
            start = members[ahead] * t
            for k in range(0, t, LINE):
                _prefetch(flat, start + k)
        row = members[j]
        sumsq += sq[row]
        _add_row(acc, r, mean, scale, row, t)
    _stats_of(acc, t, n, sumsq, out)


def _population_stats(r, mean, scale, sets, t, sq, out):  # noqa: ANN001, ANN202 - numba kernel
    """out[p] = stats of the portfolio sets[p] (rows of W summed in set order)."""
    p_count = sets.shape[0]
    flat = r.reshape(-1)
    for p in nb.prange(p_count):
        acc = np.zeros(2 * t)
        _portfolio_stats(r, flat, mean, scale, sets[p], t, sq, acc, out[p])


def _named(func, name: str):  # noqa: ANN001, ANN202
    """A copy of `func` under another name.

    numba keys its on-disk cache by the function's qualified name and
    bytecode, not by the compile options: two dispatchers of one function
    (serial and parallel) shared one cache entry, so each process ran
    whichever variant had been saved last. Distinct names, distinct entries.
    """
    clone = types.FunctionType(
        func.__code__, func.__globals__, name, func.__defaults__, func.__closure__
    )
    clone.__qualname__ = name
    clone.__doc__ = func.__doc__
    return clone


#: One thread: small batches, where waking a thread pool costs more than it saves.
population_stats_serial = nb.njit(cache=True, nogil=True)(
    _named(_population_stats, "population_stats_serial")
)
#: All threads (numba's pool, NUMBA_NUM_THREADS): large batches.
population_stats_parallel = nb.njit(parallel=True, cache=True, nogil=True)(
    _named(_population_stats, "population_stats_parallel")
)
#: Rows from which a batch is split across threads.
PARALLEL_ROWS = 256


def population_stats(rows, sets, out, parallel: bool = True) -> None:  # noqa: ANN001
    """Statistics of every row of `sets` over `rows` (a compact stratopt.engine.rows.Rows);
    numba's thread pool for large batches when `parallel` (False where the caller's own
    workers are the parallelism)."""
    big = parallel and len(sets) >= PARALLEL_ROWS
    kernel = population_stats_parallel if big else population_stats_serial
    kernel(rows.r, rows.mean, rows.scale, sets, rows.n_days, rows.sq_host, out)


@nb.njit(cache=True, nogil=True)
def _population_fitness(r, mean, scale, sets, t, sq, score, fit):  # noqa: ANN001, ANN201, PLR0913
    """fit[p] = Evaluator._score of sets[p]'s statistics, for `ratio` and `guarded ratio`:
    the statistics of _population_stats, the scalar formulas of _scalar_score (the
    climbs'), in one call. `score` as for _climb."""
    p_count, n = sets.shape
    metric = int(score[0])
    n_days = int(score[6])
    flat = r.reshape(-1)
    acc = np.empty(2 * t)
    st = np.empty(N_STATS)
    for p in range(p_count):
        acc[:] = 0.0
        _portfolio_stats(r, flat, mean, scale, sets[p], t, sq, acc, st)
        fit[p] = _scalar_score(
            st, n, n_days, metric, score[1], score[2] != 0.0, score[3] != 0.0, score[4], score[5]
        )


def population_fitness(rows, sets, score, fit) -> None:  # noqa: ANN001
    """Fitness of every row of `sets` on one thread (small batches: the search loops')."""
    _population_fitness(rows.r, rows.mean, rows.scale, sets, rows.n_days, rows.sq_host, score, fit)


@nb.njit(cache=True, inline="always")
def _swap_row(dst, src, r, mean, scale, a, b, t):  # noqa: ANN001, ANN202, PLR0913
    """dst = (src + W[b]) - W[a], element by element (dst may be src: in place)."""
    ma, sa = mean[a], scale[a]
    mb, sb = mean[b], scale[b]
    for k in range(t):
        va = r[a, k]
        vb = r[b, k]
        dst[k] = (src[k] + vb) - va
        dst[t + k] = (src[t + k] + (vb - mb) * sb) - (va - ma) * sa


@nb.njit(cache=True, nogil=True)
def _swap_stats(base, r, mean, scale, old, new, t, n, base_sumsq, sq, out):  # noqa: ANN001, ANN202
    acc = np.empty(2 * t)
    for q in range(len(new)):
        a = old[q]
        b = new[q]
        _swap_row(acc, base, r, mean, scale, a, b, t)
        _stats_of(acc, t, n, (base_sumsq - sq[a]) + sq[b], out[q])


def swap_stats(base, rows, old, new, n, base_sumsq, out) -> None:  # noqa: ANN001
    """out[q] = stats of the current set with old[q] replaced by new[q] (base = its row sum)."""
    _swap_stats(
        base, rows.r, rows.mean, rows.scale, old, new, rows.n_days, n, base_sumsq, rows.sq_host, out
    )


@nb.njit(cache=True, nogil=True)
def _set_sum(r, mean, scale, idx, t):  # noqa: ANN001, ANN202
    acc = np.empty(2 * t)
    for j in range(idx.shape[0]):
        row = idx[j]
        m = mean[row]
        s = scale[row]
        for k in range(t):
            v = r[row, k]
            z = (v - m) * s
            if j == 0:  # the first row copied, then the others added in order
                acc[k] = v
                acc[t + k] = z
            else:
                acc[k] += v
                acc[t + k] += z
    return acc


def set_sum(rows, idx) -> np.ndarray:  # noqa: ANN001
    """A Swapper's running sum: W's rows idx[0], idx[1], ... added in order (2T,)."""
    return _set_sum(rows.r, rows.mean, rows.scale, idx, rows.n_days)


@nb.njit(cache=True, nogil=True)
def _swap_into(acc, r, mean, scale, a, b, t):  # noqa: ANN001, ANN202
    _swap_row(acc, acc, r, mean, scale, a, b, t)


def swap_into(acc, rows, old: int, new: int) -> None:  # noqa: ANN001
    """acc := (acc + W[new]) - W[old], in place: a Swapper's accepted swap."""
    _swap_into(acc, rows.r, rows.mean, rows.scale, old, new, rows.n_days)


# ------------------------------------------------------------------ single-swap climbs
# The objectives a climb scores in compiled code (others: the Python loop). The
# constants are stratopt.engine.objectives' (tests hold them equal: a numba cache does
# not see a change in another file's globals).
RATIO = 0
GUARDED = 1
DRAWDOWN_EPS = 1e-6
STD_REL_EPS = 1e-6


@nb.njit(cache=True, inline="always")
def _scalar_score(st, n, n_days, metric, floor, use_corr, clip, penalty_scale, halve_below):  # noqa: ANN001, ANN202, PLR0913
    """Evaluator._score on floats (xp=SCALAR) for `ratio` and `guarded ratio`: the same
    operations in the same order (ScalarMath's where and maximum included)."""
    roi = st[0]
    dd = st[1]
    if metric == RATIO:
        if dd > DRAWDOWN_EPS:
            base = roi / dd
        elif roi > 0:
            base = roi * 100.0
        elif roi < 0:
            base = roi * 10.0
        else:
            base = 0.0
    else:
        if floor < 0.0:  # the session-P&L standard deviation (objectives.session_std)
            t = float(n_days)
            mean = roi / t
            mean_sq = st[8] / t
            v = mean_sq - mean * mean
            var = v if v >= 0.0 else 0.0
            bound = math.sqrt(var) if var > (STD_REL_EPS * STD_REL_EPS) * mean_sq else 0.0
        else:
            bound = floor
        den = dd if dd >= bound else bound
        base = roi / den if den > DRAWDOWN_EPS else 0.0
    if use_corr and n >= 2:
        mean_r = (st[6] - st[7]) / float(n * (n - 1))
        if clip:
            mean_r = mean_r if mean_r >= 0.0 else 0.0
        penalty = penalty_scale * mean_r
        if halve_below > 0 and dd < halve_below:
            penalty = penalty * 0.5
        base = base - penalty
    return base if math.isfinite(base) else -math.inf


@nb.njit(cache=True, nogil=True)
def _climb(  # noqa: ANN201, PLR0912, PLR0913, PLR0915 - numba kernel
    rng,
    r,
    mean,
    scale,
    sq,
    t,
    acc,
    sumsq,
    indices,
    member,
    n_total,  # noqa: ANN001
    score,
    current,
    best,
    best_idx,
    steps,
    accepted,
    refresh_every,
    patience,
    stuck,  # noqa: ANN001
    anneal,
    temperature,
    cooling,
    worsening,
    trace,
    state,  # noqa: ANN001
):
    """Single-swap moves as stratopt.algorithms.sa and hc make them, until `steps` are
    done, `patience` proposals in a row failed, or an accepted swap is due a refresh.

    Each step: a position, then a strategy outside the set (integers(0, n),
    integers(0, N) until not a member: moves.swap_move's draws), its fitness by
    swap_stats' arithmetic and _scalar_score, then greedy acceptance (value >
    current; a worsening's size kept in `worsening` while it has room) or, when
    `anneal`, Metropolis (delta > 0 or random() < exp(delta / temperature), then
    temperature *= cooling). An accepted swap is applied as Swapper.accept does
    (swap_into, the sum of squares, the members) and offered as the best. trace[k]
    is the best after step k. `score` = (metric, floor, use_corr, clip,
    penalty_scale, halve_below, n_days). `state` returns current, sumsq, best,
    temperature, the current before the last step, and (as floats) the steps done,
    accepted swaps, stuck count, worsenings kept and whether best_idx changed.
    """
    n = indices.shape[0]
    metric = int(score[0])
    floor = score[1]
    use_corr = score[2] != 0.0
    clip = score[3] != 0.0
    penalty_scale = score[4]
    halve_below = score[5]
    n_days = int(score[6])
    st = np.empty(9)
    tmp = np.empty(2 * t)
    k = 0
    kept = 0
    prev = current
    improved = 0
    while k < steps and (patience <= 0 or stuck < patience):
        pos = rng.integers(0, n)
        while True:
            new = rng.integers(0, n_total)
            if not member[new]:
                break
        old = indices[pos]
        _swap_row(tmp, acc, r, mean, scale, old, new, t)
        _stats_of(tmp, t, n, (sumsq - sq[old]) + sq[new], st)
        value = _scalar_score(
            st, n, n_days, metric, floor, use_corr, clip, penalty_scale, halve_below
        )
        prev = current
        delta = value - current
        if anneal:
            accept = delta > 0 or rng.random() < math.exp(delta / temperature)
            temperature *= cooling
        else:
            if delta < 0 and kept < worsening.shape[0]:
                worsening[kept] = -delta
                kept += 1
            accept = value > current
        if accept:
            _swap_row(acc, acc, r, mean, scale, old, new, t)
            sumsq = (sumsq - sq[old]) + sq[new]
            member[old] = False
            member[new] = True
            indices[pos] = new
            accepted += 1
            current = value
            stuck = 0
            if value > best:
                best = value
                best_idx[:] = indices
                improved = 1
        else:
            stuck += 1
        trace[k] = best
        k += 1
        if accept and accepted % refresh_every == 0:
            break
    state[0] = current
    state[1] = sumsq
    state[2] = best
    state[3] = temperature
    state[4] = prev
    state[5] = k
    state[6] = accepted
    state[7] = stuck
    state[8] = kept
    state[9] = improved
