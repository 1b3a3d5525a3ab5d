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
def bo_propose(rng, mean, seen, cand, n_cand, is_cand, n_seen, n_fresh, tau2, explore, out):  # noqa: ANN001, ANN201, PLR0913
    """Thompson-sampling portfolios, one per row of `out`: the top n_seen
    candidates of mean + explore * sd * N(0, 1) (sd the posterior's diagonal),
    then n_fresh distinct strategies never seen, uniformly.
    Each candidate's mean and noise scale are gathered once per call, not once per
    row: the same numbers in the same order, so the same draws give the same
    portfolios."""
    n = out.shape[1]
    loc = np.empty(n_cand)
    scale = np.empty(n_cand)
    for c in range(n_cand):
        i = cand[c]
        loc[c] = mean[i]
        scale[c] = explore * np.sqrt(tau2 / (1.0 + tau2 * seen[i] / (n * n)))
    neg = np.empty(n_cand)
    for row in range(out.shape[0]):
        _thompson(rng, loc, scale, neg, cand, is_cand, n_seen, n_fresh, mean.shape[0], out[row])


@nb.njit(cache=True, nogil=True)
def _thompson(rng, loc, scale, neg, cand, is_cand, n_seen, n_fresh, n_total, out):  # noqa: ANN001, ANN202, PLR0913
    n_cand = neg.shape[0]
    if n_seen > 0:
        for c in range(n_cand):
            neg[c] = -(loc[c] + scale[c] * rng.standard_normal())
        cut = np.partition(neg, n_seen - 1)[n_seen - 1]
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
