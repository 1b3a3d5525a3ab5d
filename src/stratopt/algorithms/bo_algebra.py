"""BO's compiled surrogate algebra (numba): a growing Cholesky factor and Thompson proposals.

Each observation adds one row of the factor (O(m n + m^2)) instead of a new
dense solve; the posterior mean over the candidates and the Thompson draws
run in compiled code. The conventions of stratopt.algorithms.compiled hold
here: the algorithm's own numpy Generator is passed in, and `flags` is the
caller's zeroed membership scratch (compiled.scratch).
"""

from __future__ import annotations

import numba as nb
import numpy as np

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
def _keep_best_half(sets, values, m, chol, scale, flags, seen, is_cand, cand, keep):  # noqa: ANN001, ANN202, PLR0913
    """Drop the worse half of the m observations (ties: the earlier stays) and rebuild
    the factor and the candidates from the kept half, in their first order."""
    order = np.argsort(-values[:m], kind="mergesort")[:keep]
    kept = np.sort(order)
    kept_sets = sets[kept].copy()
    kept_values = values[kept].copy()
    seen[:] = 0
    is_cand[:] = False
    n_cand = 0
    for j in range(keep):
        bo_append(sets, j, kept_sets[j], chol, scale, flags)
        values[j] = kept_values[j]
        n_cand = bo_count(kept_sets[j], seen, is_cand, cand, n_cand)
    return n_cand


@nb.njit(cache=True, nogil=True)
def bo_add(new_sets, new_values, sets, values, m, chol, scale, flags, seen, is_cand, cand, n_cand):  # noqa: ANN001, ANN201, PLR0913
    """Add the observations new_sets[q] -> new_values[q] in order; a full model
    (m == its capacity) first keeps its better half. Returns (m, n_cand)."""
    capacity = sets.shape[0]
    for q in range(new_sets.shape[0]):
        if m == capacity:
            keep = capacity // 2
            n_cand = _keep_best_half(sets, values, m, chol, scale, flags, seen, is_cand, cand, keep)
            m = keep
        bo_append(sets, m, new_sets[q], chol, scale, flags)
        values[m] = new_values[q]
        m += 1
        n_cand = bo_count(new_sets[q], seen, is_cand, cand, n_cand)
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
    for row in range(out.shape[0]):
        _thompson(
            rng, loc, scale, neg, heap, pool, is_cand, n_seen, n_fresh, mean.shape[0], out[row]
        )


@nb.njit(cache=True, nogil=True)
def _shortlist(loc, scale, keep):  # noqa: ANN001, ANN202
    """The positions of the `keep` largest loc + SHORTLIST_BAND * scale, in position
    order (ties: the earlier positions)."""
    count = loc.shape[0]
    neg = np.empty(count)
    for c in range(count):
        neg[c] = -(loc[c] + SHORTLIST_BAND * scale[c])
    cut = _kth_smallest(neg, keep, np.empty(keep))
    chosen = np.empty(keep, dtype=np.int64)
    k = 0
    for c in range(count):
        if neg[c] < cut:
            chosen[k] = c
            k += 1
    for c in range(count):
        if k < keep and neg[c] == cut:
            chosen[k] = c
            k += 1
    return np.sort(chosen[:k])


@nb.njit(cache=True, nogil=True)
def _thompson(rng, loc, scale, neg, heap, cand, is_cand, n_seen, n_fresh, n_total, out):  # noqa: ANN001, ANN202, PLR0913
    n_cand = neg.shape[0]
    if n_seen > 0:
        for c in range(n_cand):
            neg[c] = -(loc[c] + scale[c] * rng.standard_normal())
        cut = _kth_smallest(neg, n_seen, heap)
        k = 0
        for c in range(n_cand):
            if neg[c] < cut:
                out[k] = cand[c]
                k += 1
        for c in range(n_cand):
            if k < n_seen and neg[c] == cut:
                out[k] = cand[c]
                k += 1
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
