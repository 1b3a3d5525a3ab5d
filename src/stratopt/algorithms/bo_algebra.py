"""BO's compiled surrogate algebra (numba): a growing Cholesky factor and Thompson proposals.

Each observation adds one row of the factor (O(m n + m^2)) instead of a new
dense solve; the posterior mean over the candidates and the Thompson draws
run in compiled code. The conventions of stratopt.algorithms.compiled hold
here: the algorithm's own numpy Generator is passed in, and `flags` (uint8,
compiled.scratch) or `masks` (uint64) is the caller's zeroed per-strategy scratch.
A batch of observations is added at once (bo_append_many): the same numbers as
bo_append's one at a time, bit for bit.
"""

from __future__ import annotations

import numba as nb
import numpy as np

from stratopt.engine.numba_setup import skip_blas_check

skip_blas_check()  # numba without its scipy BLAS check (engine/numba_setup.py)

#: The shortlist ranks candidates by mean + this many Thompson noise scales (optimism).
SHORTLIST_BAND = 2.0


@nb.njit(cache=True, nogil=True)
def bo_append(sets, m, s, chol, scale, flags):  # noqa: ANN001, ANN201
    """Store s as observation m and add row m of the Cholesky factor of
    G = I + scale * overlap (overlap_jk = |S_j & S_k|): O(m n + m^2)."""
    n = s.shape[0]
    for k in range(n):
        flags[s[k]] = 1
    g = np.empty(m + 1)
    for j in range(m):
        c = 0
        for k in range(n):
            c += flags[sets[j, k]]
        g[j] = scale * c
    for k in range(n):
        flags[s[k]] = 0
        sets[m, k] = s[k]
    total = 0.0
    for r in range(m):
        acc = g[r]
        for k in range(r):
            acc -= chol[r, k] * chol[m, k]
        chol[m, r] = acc / chol[r, r]
        total += chol[m, r] * chol[m, r]
    chol[m, m] = np.sqrt(1.0 + scale * n - total)


@nb.njit(cache=True, nogil=True)
def bo_posterior_mean(sets, m, y, chol, weight, mean, cand, n_cand):  # noqa: ANN001, ANN201, PLR0913
    """Posterior means of the candidates' inclusion weights: alpha = G^-1 yz
    (yz the standardised fitness), mean_i = weight * sum of alpha_j over the
    observations holding i (0 for strategies never seen)."""
    mu = 0.0
    for j in range(m):
        mu += y[j]
    mu /= m
    var = 0.0
    for j in range(m):
        var += (y[j] - mu) ** 2
    sd = np.sqrt(var / m)
    if sd <= 0.0:
        sd = 1.0
    w = np.empty(m)
    for r in range(m):  # L w = yz
        acc = (y[r] - mu) / sd
        for k in range(r):
            acc -= chol[r, k] * w[k]
        w[r] = acc / chol[r, r]
    alpha = np.empty(m)
    for r in range(m - 1, -1, -1):  # L^T alpha = w
        acc = w[r]
        for k in range(r + 1, m):
            acc -= chol[k, r] * alpha[k]
        alpha[r] = acc / chol[r, r]
    for c in range(n_cand):
        mean[cand[c]] = 0.0
    for j in range(m):
        a = alpha[j] * weight
        for k in range(sets.shape[1]):
            mean[sets[j, k]] += a
    return alpha


@nb.njit(cache=True, nogil=True)
def bo_count(s, seen, is_cand, cand, n_cand):  # noqa: ANN001, ANN201
    """Count the members of a new observation; new strategies join the candidates."""
    for k in range(s.shape[0]):
        i = s[k]
        seen[i] += 1
        if not is_cand[i]:
            is_cand[i] = True
            cand[n_cand] = i
            n_cand += 1
    return n_cand


@nb.njit(cache=True, nogil=True)
def _overlaps(sets, m, b, n, masks, g, scale):  # noqa: ANN001, ANN202, PLR0913
    """g[q, j] = scale * |S_{m+q} & S_j| for the b new rows q and every earlier row j
    (j < m + q), bo_append's counts, 64 new rows per pass.

    Each strategy of the pass's new rows gets a row of 64 bytes, one per new
    row holding it (`masks` holds that row's index + 1 meanwhile, 0 again on
    return). An earlier row's members then add their byte rows into 64
    counters (vectorised): one lookup per member for all the new rows at once,
    instead of one per member and new row."""
    for lo in range(0, b, 64):
        hi = min(b, lo + 64)
        columns = np.empty((hi - lo) * n, dtype=np.int64)
        lanes = np.zeros(((hi - lo) * n, 64), dtype=np.uint8)
        width = 0
        for q in range(lo, hi):
            for k in range(n):
                i = sets[m + q, k]
                if masks[i] == 0:
                    columns[width] = i
                    width += 1
                    masks[i] = width
                lanes[masks[i] - 1, q - lo] = 1
        tally = np.zeros(64, dtype=np.int32)
        for j in range(m + hi - 1):
            tally[:] = 0
            for k in range(n):
                c = masks[sets[j, k]]
                if c != 0:
                    row = lanes[c - 1]
                    for t in range(64):
                        tally[t] += row[t]
            for q in range(max(lo, j - m + 1), hi):
                g[q, j] = scale * tally[q - lo]
        for p in range(width):
            masks[columns[p]] = 0


@nb.njit(cache=True, nogil=True)
def bo_append_many(sets, m, new, chol, scale, masks):  # noqa: ANN001, ANN201
    """bo_append of each row of `new` in turn (observations m, m + 1, ...), the same
    numbers bit for bit, with the rows' triangular solves interleaved.

    Each new row's entry r takes its subtractions in bo_append's order, but the
    rows' solves run side by side, four rows at a time in registers: four
    independent chains of subtractions, where one row alone is a single chain. A lane joins the earlier new rows' columns once
    their rows are complete (its diagonal taken from its own sum of squares).
    The overlaps come from one pass over the observations for all new rows
    (_overlaps); `masks` is the caller's zeroed uint64 scratch (one per strategy)."""
    b = new.shape[0]
    n = new.shape[1]
    for q in range(b):
        for k in range(n):
            sets[m + q, k] = new[q, k]
    g = np.empty((b, m + b))
    _overlaps(sets, m, b, n, masks, g, scale)
    x = np.empty((m + b, b))  # x[r, q]: new row q's entry r
    total = np.zeros(b)
    acc = np.empty(b)
    for r in range(m + b):
        first = 0
        if r >= m:  # row r is new row r - m: complete, so it becomes a row of the factor
            j = r - m
            for k in range(r):
                chol[r, k] = x[k, j]
            chol[r, r] = np.sqrt(1.0 + scale * n - total[j])
            first = j + 1
        q = first
        while q + 4 <= b:  # four lanes at a time in registers: four independent chains
            a0, a1, a2, a3 = g[q, r], g[q + 1, r], g[q + 2, r], g[q + 3, r]
            for k in range(r):
                lk = chol[r, k]
                a0 -= lk * x[k, q]
                a1 -= lk * x[k, q + 1]
                a2 -= lk * x[k, q + 2]
                a3 -= lk * x[k, q + 3]
            acc[q], acc[q + 1], acc[q + 2], acc[q + 3] = a0, a1, a2, a3
            q += 4
        while q < b:
            a0 = g[q, r]
            for k in range(r):
                a0 -= chol[r, k] * x[k, q]
            acc[q] = a0
            q += 1
        d = chol[r, r]
        for q in range(first, b):
            v = acc[q] / d
            x[r, q] = v
            total[q] += v * v


@nb.njit(cache=True, nogil=True)
def _keep_best_half(sets, values, m, chol, scale, masks, seen, is_cand, cand, keep):  # noqa: ANN001, ANN202, PLR0913
    """Drop the worse half of the m observations (ties: the earlier stays) and rebuild
    the factor and the candidates from the kept half, in their first order."""
    order = np.argsort(-values[:m], kind="mergesort")[:keep]
    kept = np.sort(order)
    kept_sets = sets[kept].copy()
    kept_values = values[kept].copy()
    seen[:] = 0
    is_cand[:] = False
    n_cand = 0
    bo_append_many(sets, 0, kept_sets, chol, scale, masks)
    for j in range(keep):
        values[j] = kept_values[j]
        n_cand = bo_count(kept_sets[j], seen, is_cand, cand, n_cand)
    return n_cand


@nb.njit(cache=True, nogil=True)
def bo_add(new_sets, new_values, sets, values, m, chol, scale, masks, seen, is_cand, cand, n_cand):  # noqa: ANN001, ANN201, PLR0913
    """Add the observations new_sets[q] -> new_values[q] in order; a full model
    (m == its capacity) first keeps its better half. Returns (m, n_cand)."""
    capacity = sets.shape[0]
    q = 0
    while q < new_sets.shape[0]:
        if m == capacity:
            keep = capacity // 2
            n_cand = _keep_best_half(sets, values, m, chol, scale, masks, seen, is_cand, cand, keep)
            m = keep
        take = min(new_sets.shape[0] - q, capacity - m)  # up to the next better-half rule
        bo_append_many(sets, m, new_sets[q : q + take], chol, scale, masks)
        for i in range(take):
            values[m + i] = new_values[q + i]
            n_cand = bo_count(new_sets[q + i], seen, is_cand, cand, n_cand)
        m += take
        q += take
    return m, n_cand


@nb.njit(cache=True, nogil=True)
def bo_propose(
    rng, mean, seen, cand, n_cand, is_cand, n_seen, n_fresh, tau2, explore, shortlist, out
):  # noqa: ANN001, ANN201, PLR0913
    """Thompson-sampling portfolios, one per row of `out`: the top n_seen
    candidates of mean + explore * sd * N(0, 1) (sd the posterior's diagonal),
    then n_fresh distinct strategies never seen, uniformly.
    Each candidate's mean and noise scale are gathered once per call, not once per
    row: the same numbers in the same order, so the same draws give the same
    portfolios. With `shortlist` < n_cand the rows draw only over the `shortlist`
    candidates of highest mean + SHORTLIST_BAND noise scales (ties in candidate
    order), chosen once per call: a draw per shortlisted candidate, not per seen one."""
    n = out.shape[1]
    loc = np.empty(n_cand)
    scale = np.empty(n_cand)
    for c in range(n_cand):
        i = cand[c]
        loc[c] = mean[i]
        scale[c] = explore * np.sqrt(tau2 / (1.0 + tau2 * seen[i] / (n * n)))
    pool = cand[:n_cand]
    if n_seen > 0 and shortlist < n_cand:
        chosen = _shortlist(loc, scale, max(shortlist, n_seen))
        loc = loc[chosen]
        scale = scale[chosen]
        pool = pool[chosen]
    neg = np.empty(pool.shape[0])
    heap = np.empty(max(n_seen, 1))
    picked = np.empty(max(n_seen, 1), dtype=np.int64)
    for row in range(out.shape[0]):
        _thompson(
            rng,
            loc,
            scale,
            neg,
            heap,
            picked,
            pool,
            is_cand,
            n_seen,
            n_fresh,
            mean.shape[0],
            out[row],
        )


@nb.njit(cache=True, nogil=True)
def _shortlist(loc, scale, keep):  # noqa: ANN001, ANN202
    """The positions of the `keep` largest loc + SHORTLIST_BAND * scale, in position
    order (ties: the earlier positions)."""
    neg = np.empty(loc.shape[0])
    for c in range(loc.shape[0]):
        neg[c] = -(loc[c] + SHORTLIST_BAND * scale[c])
    chosen = np.empty(keep, dtype=np.int64)
    k = _top_k(neg, keep, np.empty(keep), chosen)
    return np.sort(chosen[:k])


@nb.njit(cache=True, nogil=True)
def _top_k(neg, k, heap, picked):  # noqa: ANN001, ANN202
    """The positions of the k smallest of `neg` into `picked`: those under the k-th
    smallest value in position order, then ties at it in position order; how many."""
    cut = _kth_smallest(neg, k, heap)
    j = 0
    for c in range(neg.shape[0]):
        if neg[c] < cut:
            picked[j] = c
            j += 1
    for c in range(neg.shape[0]):
        if j < k and neg[c] == cut:
            picked[j] = c
            j += 1
    return j


@nb.njit(cache=True, nogil=True)
def _thompson(
    rng, loc, scale, neg, heap, picked_scratch, cand, is_cand, n_seen, n_fresh, n_total, out
):  # noqa: ANN001, ANN202, PLR0913
    if n_seen > 0:
        for c in range(neg.shape[0]):
            neg[c] = -(loc[c] + scale[c] * rng.standard_normal())
        picked = _top_k(neg, n_seen, heap, picked_scratch)
        for k in range(picked):
            out[k] = cand[picked_scratch[k]]
    for f in range(n_seen, n_seen + n_fresh):
        while True:
            v = rng.integers(0, n_total)
            if is_cand[v]:
                continue
            fresh = True
            for q in range(n_seen, f):
                if out[q] == v:
                    fresh = False
            if fresh:
                out[f] = v
                break


@nb.njit(cache=True, inline="always")
def _sift_down(heap, k):  # noqa: ANN001, ANN202
    i = 0
    x = heap[0]
    while True:
        child = 2 * i + 1
        if child >= k:
            break
        if child + 1 < k and heap[child + 1] > heap[child]:
            child += 1
        if heap[child] <= x:
            break
        heap[i] = heap[child]
        i = child
    heap[i] = x


@nb.njit(cache=True)
def _kth_smallest(values, k, heap):  # noqa: ANN001, ANN202
    """np.partition(values, k - 1)[k - 1], the value, from a max-heap of the k smallest
    seen so far: most values lose one comparison with the heap's top, and nothing is
    copied (the partition copied and reordered all of them, per proposal).
    NaN orders differently in a heap, so a NaN falls back to np.partition."""
    count = values.shape[0]
    for i in range(k):
        x = values[i]
        if x != x:
            return np.partition(values, k - 1)[k - 1]
        j = i  # sift up
        while j > 0:
            parent = (j - 1) // 2
            if heap[parent] >= x:
                break
            heap[j] = heap[parent]
            j = parent
        heap[j] = x
    for i in range(k, count):
        x = values[i]
        if x != x:
            return np.partition(values, k - 1)[k - 1]
        if x < heap[0]:
            heap[0] = x
            _sift_down(heap, k)
    return heap[0]
