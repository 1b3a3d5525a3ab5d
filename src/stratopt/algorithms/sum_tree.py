"""ACO's compiled sampling (numba): a sum tree over the lazy MAX-MIN trail.

Ants are drawn from a sum tree of the trail's weights (a draw costs O(log N),
not a pass over N), and an iteration's deposits update only the leaves they
touch. The conventions of stratopt.algorithms.compiled hold here: random
numbers come from the algorithm's own numpy Generator, passed in, and
`flags` is the caller's zeroed membership scratch (compiled.scratch).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from stratopt.engine.numba_setup import skip_blas_check

skip_blas_check()  # numba without its scipy BLAS check (engine/numba_setup.py)


@nb.njit(cache=True, nogil=True)
def tree_build(weights, tree, leaves):  # noqa: ANN001, ANN201
    """tree[leaves + i] = weights[i] (0 beyond N); every inner node the sum of its two
    children, so tree[1] is the total and a leaf is found in O(log N)."""
    for i in range(leaves):
        tree[leaves + i] = weights[i] if i < weights.shape[0] else 0.0
    for node in range(leaves - 1, 0, -1):
        tree[node] = tree[2 * node] + tree[2 * node + 1]


@nb.njit(cache=True, nogil=True)
def tree_set(tree, leaves, i, value):  # noqa: ANN001, ANN201
    """Leaf i := value, its ancestors recomputed from their children (no drift)."""
    node = leaves + i
    tree[node] = value
    node //= 2
    while node >= 1:
        tree[node] = tree[2 * node] + tree[2 * node + 1]
        node //= 2


#: An ant draws with replacement and rejects what it holds until its strategies carry this
#: share of the total weight, then takes each drawn strategy out of the tree instead.
REJECTION_SHARE = 0.5


@nb.njit(cache=True, nogil=True)
def _descend(tree, leaves, u):  # noqa: ANN001, ANN202
    """The leaf whose cumulative weight interval holds u (0 <= u < tree[1])."""
    node = 1
    while node < leaves:
        left = tree[2 * node]
        if u < left:
            node = 2 * node
        else:
            u -= left
            node = 2 * node + 1
    return node


@nb.njit(cache=True, nogil=True)
def sample_ants(rng, tree, leaves, n, ants, flags):  # noqa: ANN001, ANN201
    """`ants` n-subsets, each drawn one strategy at a time with probability
    proportional to its leaf weight among those not yet drawn (sequential
    sampling without replacement, the same law as Gumbel top-k).

    While the ant's strategies carry less than REJECTION_SHARE of the total
    weight, a draw is from the whole tree and one already held is drawn again
    (rejection: the same conditional law, at most two draws per pick on average,
    and the tree untouched); from then on each drawn strategy is taken out of
    the tree (two O(log N) updates), and put back after the ant. `flags` is the
    caller's zeroed scratch (compiled.scratch), zeroed again on return.
    """
    out = np.empty((ants, n), dtype=np.int64)
    saved = np.empty(n)
    total = tree[1]
    for a in range(ants):
        k = 0
        held = 0.0
        removed = -1  # picks before this index were drawn by rejection, not yet taken out
        while k < n:
            if removed < 0:
                if held < REJECTION_SHARE * total:
                    node = _descend(tree, leaves, rng.random() * total)
                    w = tree[node]
                    i = node - leaves
                    if w <= 0.0 or flags[i]:  # rounding at the far end, or held: draw again
                        continue
                    flags[i] = 1
                    out[a, k] = i
                    saved[k] = w
                    held += w
                    k += 1
                    continue
                for j in range(k):
                    tree_set(tree, leaves, out[a, j], 0.0)
                removed = k
            node = _descend(tree, leaves, rng.random() * tree[1])
            w = tree[node]
            if w <= 0.0:
                continue
            i = node - leaves
            flags[i] = 1
            out[a, k] = i
            saved[k] = w
            tree_set(tree, leaves, i, 0.0)
            k += 1
        if removed >= 0:
            for j in range(n - 1, -1, -1):
                tree_set(tree, leaves, out[a, j], saved[j])
        for j in range(n):
            flags[out[a, j]] = 0
    return out


@nb.njit(cache=True, nogil=True)
def trail_deposit(
    v, tree, leaves, scale, evaporated_min, tau_min, tau_max, deposit, alpha, a, b, flags
):  # noqa: ANN001, ANN201, PLR0913
    """The deposits of one ACO iteration on the lazy trail tau_i = max(scale * v_i, tau_min).

    `scale` is already evaporated (scale = (1 - rho) * the old scale), so a
    strategy's evaporated trail is max(scale * v_i, evaporated_min) with
    evaporated_min = (1 - rho) * tau_min. Each strategy of a and of b gains
    `deposit` (twice when in both), its trail is clipped to [tau_min, tau_max]
    as the sequential rule does, and its leaf becomes v_i ** alpha.
    """
    for j in range(a.shape[0]):
        flags[a[j]] += 1
    for j in range(b.shape[0]):
        flags[b[j]] += 1
    for s in range(2):
        src = a if s == 0 else b
        for j in range(src.shape[0]):
            i = src[j]
            c = flags[i]
            if c == 0:
                continue
            flags[i] = 0
            tau = max(scale * v[i], evaporated_min) + c * deposit
            v[i] = min(max(tau, tau_min), tau_max) / scale
            tree_set(tree, leaves, i, v[i] if alpha == 1.0 else v[i] ** alpha)
