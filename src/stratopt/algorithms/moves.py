"""Moves on portfolios (sets of distinct strategy indices), shared by the algorithms.

A portfolio is a row of n distinct indices in 0..N-1. The legacy rebuilt a
25,544-element set for every "random strategy not in the portfolio"; here a
draw is rejection sampling against the n members (n << N, so a draw almost
never repeats), with an explicit complement only when the portfolio covers
most of the strategies. Population moves are vectorised over rows and repair
the rare collision row by row, so the random stream, and so the result, is a
function of the seed alone.
"""

from __future__ import annotations

import numpy as np

Rng = np.random.Generator


def random_subsets(rng: Rng, n_total: int, n: int, count: int) -> np.ndarray:
    """`count` uniformly random n-subsets of 0..N-1, as a (count, n) int64 array.

    When n is small against N: n draws with replacement per row, repeats
    redrawn outside the row (uniform by symmetry), about 15 times faster than
    one Generator.choice per row at N = 25,544, n = 100.
    """
    if 8 * n > n_total:
        out = np.empty((count, n), dtype=np.int64)
        for row in range(count):
            out[row] = rng.choice(n_total, n, replace=False)
        return out
    return dedupe_rows(rng, n_total, rng.integers(0, n_total, size=(count, n)))


def draw_outside(rng: Rng, n_total: int, taken: np.ndarray, k: int) -> np.ndarray:
    """k distinct strategies drawn uniformly from those not in `taken`.

    Rejection sampling costs O(k + |taken|) when `taken` is a small part of
    0..N-1; the complement is built only when it is not.
    """
    taken = np.asarray(taken, dtype=np.int64).ravel()
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    members = set(taken.tolist())
    free = n_total - len(members)
    if k > free:
        raise ValueError(f"cannot draw {k} strategies outside a set of {len(members)} of {n_total}")
    if 2 * len(members) >= n_total or 4 * k >= free:
        pool = np.setdiff1d(np.arange(n_total, dtype=np.int64), taken)
        return rng.choice(pool, k, replace=False)
    out: list[int] = []
    while len(out) < k:
        for c in rng.integers(0, n_total, size=k - len(out) + 2).tolist():
            if c not in members:
                members.add(c)
                out.append(c)
                if len(out) == k:
                    break
    return np.array(out, dtype=np.int64)


def draw_one_outside(rng: Rng, n_total: int, members: set[int] | np.ndarray) -> int:
    """One strategy not in `members` (a set of ints or an index array)."""
    if not isinstance(members, set):
        members = set(np.asarray(members).tolist())
    if 2 * len(members) >= n_total:
        return int(draw_outside(rng, n_total, np.fromiter(members, dtype=np.int64), 1)[0])
    while True:
        c = int(rng.integers(0, n_total))
        if c not in members:
            return c


def isin(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """np.isin for the short arrays of portfolio moves (a broadcast compare beats sorting)."""
    if len(a) * len(b) <= 65536:
        return (a[:, None] == b[None, :]).any(axis=1)
    return np.isin(a, b)


def rows_with_duplicates(sets: np.ndarray) -> np.ndarray:
    """Boolean per row: does the row hold an index twice?"""
    if sets.shape[1] < 2:
        return np.zeros(len(sets), dtype=bool)
    s = np.sort(sets, axis=1)
    return (s[:, 1:] == s[:, :-1]).any(axis=1)


def mutate_rows(rng: Rng, n_total: int, sets: np.ndarray, rate: float) -> np.ndarray:
    """Replace each gene with probability `rate` by a strategy not in its row.

    The legacy's mutation. Candidates are drawn for the whole population at
    once; a row whose new genes collide (with each other, with the kept genes,
    or with the gene they replace) is redrawn gene by gene, as the legacy does.
    """
    if sets.shape[1] >= n_total:
        return sets.copy()  # every strategy is in the portfolio: nothing to swap in
    mask = rng.random(sets.shape) < rate
    cand = rng.integers(0, n_total, size=sets.shape)
    out = np.where(mask, cand, sets)
    bad = rows_with_duplicates(out) | (mask & (cand == sets)).any(axis=1)
    for row in np.flatnonzero(bad):
        # the legacy's sequential rule: each gene in turn, outside the current child
        out[row] = sets[row]
        members = set(sets[row].tolist())
        for pos in np.flatnonzero(mask[row]):
            new = draw_one_outside(rng, n_total, members)
            members.discard(int(out[row, pos]))
            members.add(new)
            out[row, pos] = new
    return out


def dedupe_rows(rng: Rng, n_total: int, sets: np.ndarray) -> np.ndarray:
    """Each repeated index (after its first place) replaced by a random unused strategy.

    Vectorised over rows: redraw every repeat at once until no row has one
    (each round is one sort; repeats are rare when n << N). Needs n <= N.
    """
    if sets.shape[1] > n_total:
        raise ValueError(
            f"a row of {sets.shape[1]} cannot hold distinct indices of 0..{n_total - 1}"
        )
    out = sets.copy()
    while True:
        order = np.argsort(out, axis=1, kind="stable")
        ranked = np.take_along_axis(out, order, axis=1)
        repeat = np.zeros(out.shape, dtype=bool)
        repeat[:, 1:] = ranked[:, 1:] == ranked[:, :-1]
        if not repeat.any():
            return out
        rows, cols = np.nonzero(repeat)
        out[rows, order[rows, cols]] = rng.integers(0, n_total, size=len(rows))


def pick_from_union(rng: Rng, a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Per row, n distinct indices drawn uniformly from the union of a[row] and b[row].

    The legacy's GA crossover (the union of two n-sets has at least n
    members). The union is listed in the parents' order (a's genes, then the
    genes of b that a lacks) and its first n places are shuffled, Fisher-Yates
    from the front: place i takes place i + floor(u (count - i)), one uniform
    u each. The picks' order is part of the result (the mutation after it
    draws per position) and depends on nothing but the draws; NumPy's
    argpartition, used before, returned them in an order that differs between
    CPUs (its AVX2 and AVX-512 selections and its plain one).
    compiled.union_picks is this rule, draw for draw; this loop states it.
    """
    out = np.empty((len(a), n), dtype=np.int64)
    for r in range(len(a)):
        union = np.concatenate([a[r], b[r][~np.isin(b[r], a[r])]]).astype(np.int64)
        count = len(union)
        for i in range(min(n, count - 1)):
            j = i + min(int(rng.random() * (count - i)), count - i - 1)
            union[i], union[j] = union[j], union[i]
        out[r] = union[:n]
    return out


def move_towards(
    rng: Rng,
    x: np.ndarray,
    target: np.ndarray,
    rate: float,
    keep: np.ndarray | None = None,
    at_least_one: bool = False,
) -> np.ndarray:
    """Set-based attraction: x takes each member of target it lacks with probability `rate`.

    Each incoming strategy replaces a random member of x that is not in
    `target` (members also in `keep` are given up last). This is the set
    analogue of x + rate * (target - x) used by the set-based PSO and DE.
    """
    missing = target[~isin(target, x)]
    if len(missing) == 0:
        return x.copy()
    take = rng.random(len(missing)) < rate
    if at_least_one and not take.any():
        take[rng.integers(len(missing))] = True
    incoming = missing[take]
    if len(incoming) == 0:
        return x.copy()
    free = np.flatnonzero(~isin(x, target))  # never empty: x lacks len(missing) >= 1 of target
    if keep is not None and len(keep):
        # positions holding a `keep` member go to the back of the queue
        order = rng.permutation(len(free))
        free = free[order]
        free = free[np.argsort(isin(x[free], keep), kind="stable")]
    else:
        free = rng.permutation(free)
    k = min(len(incoming), len(free))
    out = x.copy()
    out[free[:k]] = incoming[:k]
    return out
