"""Compiled move operators (numba) for the search loops.

Why: the evaluator scores a portfolio in a few microseconds, while the moves
written as NumPy calls per member (move_towards, differential_mutant,
rng.choice per partner) cost tens of microseconds each: the default DE and
PSO spent about ten times longer moving than evaluating. Here one call per
generation does the moves of the whole population in compiled code.

Random numbers come from the algorithm's own numpy Generator, passed in:
numba draws from the same bit generator with the same algorithms as NumPy
(`random()`, `integers()`: tested bit for bit), so

- the operators marked *exact* consume the stream exactly as the NumPy code
  of stratopt.algorithms.moves / ga / de that they replace, and return the
  same arrays: the legacy presets keep their results bit for bit
  (tests/algorithms/test_compiled_moves.py compares both on many seeds);
- the others (the default presets' set-based PSO and DE moves) are the same
  moves as before, drawn in a different order: same distribution, other
  samples, still a function of the seed alone.

Passing a Generator into a compiled function costs ~10 us (numba unboxes its
bit generator), so each operator works on a whole population per call.

Membership tests use `flags`, a uint8 array of N zeros owned by the caller
(`scratch(n_total)`): an operator sets bits for the members of the few sets
it looks at and clears them before it returns, so a test costs O(1) and the
array is never re-allocated.

ACO's sum tree and trail are in stratopt.algorithms.sum_tree, BO's surrogate
algebra in stratopt.algorithms.bo_algebra (same conventions).
"""

from __future__ import annotations

import numba as nb
import numpy as np

from stratopt.engine.numba_setup import skip_blas_check

skip_blas_check()  # numba without its scipy BLAS check (engine/numba_setup.py)

IN_X, IN_TARGET, IN_KEEP = 1, 2, 4
IN_A, IN_B, IN_C = 8, 16, 32


def scratch(n_total: int) -> np.ndarray:
    """The zeroed membership flags the operators share (one per search)."""
    return np.zeros(n_total, dtype=np.uint8)


# ------------------------------------------------------------------ exact (legacy)


@nb.njit(cache=True, nogil=True)
def legacy_partners(rng, size):  # noqa: ANN001, ANN201 - numba kernel
    """exact: [other_members(rng, size, i, 1)[0] for i in range(size)] of de.py.

    Generator.choice(size - 1, 1, replace=False) is one bounded draw
    (integers(0, size - 1)), none when size - 1 == 1.
    """
    out = np.empty(size, dtype=np.int64)
    for i in range(size):
        pick = 0 if size - 1 == 1 else rng.integers(0, size - 1)
        out[i] = pick + (1 if pick >= i else 0)
    return out


@nb.njit(cache=True, nogil=True)
def tournament_winners(rng, fitness, count, k):  # noqa: ANN001, ANN201
    """exact: ga.tournament_winners (k = min(3, size) entrants per tournament).

    NumPy draws a (count, size) block of keys, argsorts each row and keeps the
    first k: the k smallest keys in ascending order; the winner is the first
    entrant with the largest fitness (np.argmax: the first NaN wins).
    """
    size = fitness.shape[0]
    keys = np.empty(size)
    entrants = np.empty(k, dtype=np.int64)
    out = np.empty(count, dtype=np.int64)
    for r in range(count):
        for j in range(size):
            keys[j] = rng.random()
        for e in range(k):
            best = -1
            for j in range(size):
                if keys[j] < 2.0 and (best < 0 or keys[j] < keys[best]):
                    best = j
            entrants[e] = best
            keys[best] = 3.0  # taken
        win = entrants[0]
        top = fitness[win]
        if top == top:  # not NaN
            for e in range(1, k):
                v = fitness[entrants[e]]
                if not v <= top:
                    win = entrants[e]
                    top = v
                    if top != top:
                        break
        out[r] = win
    return out


@nb.njit(cache=True, nogil=True)
def mutate_rows(rng, n_total, sets, rate, flags):  # noqa: ANN001, ANN201
    """exact: moves.mutate_rows for 2 n < N (the caller keeps the NumPy path otherwise).

    NumPy draws the whole (P, n) mask, then the whole (P, n) block of
    candidates; a row whose new genes collide is redone gene by gene, each
    gene drawn by rejection outside the row's current members.
    """
    p_count, n = sets.shape
    out = sets.copy()
    mask = np.empty((p_count, n), dtype=np.bool_)
    for i in range(p_count):
        for j in range(n):
            mask[i, j] = rng.random() < rate
    cand = np.empty((p_count, n), dtype=np.int64)
    for i in range(p_count):
        for j in range(n):
            cand[i, j] = rng.integers(0, n_total)
    for i in range(p_count):
        bad = False
        for j in range(n):
            if mask[i, j]:
                out[i, j] = cand[i, j]
                if cand[i, j] == sets[i, j]:
                    bad = True
        if not bad:  # a value twice in the row?
            for j in range(n):
                v = out[i, j]
                if flags[v] & IN_X:
                    bad = True
                flags[v] |= IN_X
            for j in range(n):
                flags[out[i, j]] = 0
        if bad:
            for j in range(n):
                out[i, j] = sets[i, j]
                flags[sets[i, j]] = IN_X
            for j in range(n):
                if mask[i, j]:
                    c = rng.integers(0, n_total)
                    while flags[c] & IN_X:
                        c = rng.integers(0, n_total)
                    flags[out[i, j]] = 0
                    flags[c] = IN_X
                    out[i, j] = c
            for j in range(n):
                flags[out[i, j]] = 0
    return out


@nb.njit(cache=True, nogil=True)
def union_picks(rng, a, b, n, flags):  # noqa: ANN001, ANN201
    """exact: moves.pick_from_union (the GA crossover), row by row: the union in
    the parents' order, the first n places shuffled with one uniform each."""
    rows = a.shape[0]
    out = np.empty((rows, n), dtype=np.int64)
    union = np.empty(a.shape[1] + b.shape[1], dtype=np.int64)
    for r in range(rows):
        count = 0
        for j in range(a.shape[1]):
            union[count] = a[r, j]
            flags[a[r, j]] |= IN_A
            count += 1
        for j in range(b.shape[1]):
            if not flags[b[r, j]] & IN_A:
                union[count] = b[r, j]
                count += 1
        for j in range(a.shape[1]):
            flags[a[r, j]] = 0
        for i in range(min(n, count - 1)):
            j = i + min(int(rng.random() * (count - i)), count - i - 1)
            t = union[i]
            union[i] = union[j]
            union[j] = t
        out[r, :] = union[:n]
    return out


@nb.njit(cache=True, nogil=True)
def ga_children(rng, n_total, pop, fitness, k, rate, flags):  # noqa: ANN001, ANN201, PLR0913
    """exact: ga.breed for 2 n < N in one call (tournaments, crossover, mutation):
    one Generator handed over per generation instead of three."""
    size = fitness.shape[0]
    winners = tournament_winners(rng, fitness, 2 * size, k)
    children = union_picks(rng, pop[winners[:size]], pop[winners[size:]], pop.shape[1], flags)
    return mutate_rows(rng, n_total, children, rate, flags)


# ------------------------------------------------------------------ set moves (default presets)


@nb.njit(cache=True, nogil=True)
def _shuffle_head(rng, a, count, k):  # noqa: ANN001, ANN202
    """a[:k] becomes a uniformly random k-prefix of a permutation of a[:count]
    (Fisher-Yates from the front, stopped after k steps), in place."""
    for i in range(min(k, count - 1)):
        j = i + rng.integers(0, count - i)
        t = a[i]
        a[i] = a[j]
        a[j] = t


@nb.njit(cache=True, nogil=True)
def _move_towards(rng, x, target, rate, keep, at_least_one, flags, out):  # noqa: ANN001, ANN202, PLR0913
    """moves.move_towards into `out`: x takes each member of target it lacks with
    probability `rate` (at least one if asked), each replacing a random member of
    x that target does not hold, members also in `keep` given up last."""
    n = x.shape[0]
    for j in range(n):
        out[j] = x[j]
        flags[x[j]] |= IN_X
    for j in range(target.shape[0]):
        flags[target[j]] |= IN_TARGET
    for j in range(keep.shape[0]):
        flags[keep[j]] |= IN_KEEP
    incoming = np.empty(target.shape[0], dtype=np.int64)
    missing = 0
    taken = 0
    for j in range(target.shape[0]):
        v = target[j]
        if not flags[v] & IN_X:
            missing += 1
            if rng.random() < rate:
                incoming[taken] = v
                taken += 1
    if at_least_one and taken == 0 and missing > 0:
        pick = rng.integers(0, missing)
        seen = 0
        for j in range(target.shape[0]):
            v = target[j]
            if not flags[v] & IN_X:
                if seen == pick:
                    incoming[0] = v
                    taken = 1
                    break
                seen += 1
    if taken > 0:
        free = np.empty(n, dtype=np.int64)
        count = 0
        for j in range(n):
            if not flags[x[j]] & IN_TARGET:
                free[count] = j
                count += 1
        # a random order of the free positions, those holding a keep member last;
        # only its first `taken` places are used
        head = 0
        if keep.shape[0] > 0:
            for j in range(count):
                if not flags[x[free[j]]] & IN_KEEP:
                    t = free[head]
                    free[head] = free[j]
                    free[j] = t
                    head += 1
            _shuffle_head(rng, free, head, taken)
            if taken > head:
                _shuffle_head(rng, free[head:], count - head, taken - head)
        else:
            _shuffle_head(rng, free, count, taken)
        for j in range(min(taken, count)):
            out[free[j]] = incoming[j]
    for j in range(n):
        flags[x[j]] = 0
    for j in range(target.shape[0]):
        flags[target[j]] = 0
    for j in range(keep.shape[0]):
        flags[keep[j]] = 0


@nb.njit(cache=True, nogil=True)
def pso_attract(rng, swarm, pbest, gbest, c1, c2, flags):  # noqa: ANN001, ANN201, PLR0913
    """The default PSO's move of every particle: towards its personal best with
    rate c1 * r1 (keeping the global best's members), then towards the global
    best with rate c2 * r2 (keeping the personal best's), r1, r2 ~ U(0, 1)."""
    p_count, n = swarm.shape
    moved = np.empty_like(swarm)
    step = np.empty(n, dtype=np.int64)
    for i in range(p_count):
        r1 = rng.random()
        r2 = rng.random()
        _move_towards(rng, swarm[i], pbest[i], c1 * r1, gbest, False, flags, step)
        _move_towards(rng, step, gbest, c2 * r2, pbest[i], False, flags, moved[i])
    return moved


@nb.njit(cache=True, nogil=True)
def _three_others(rng, size, i, out):  # noqa: ANN001, ANN202
    """Three distinct members of 0..size-1, none equal to i."""
    count = 0
    while count < 3:
        v = rng.integers(0, size - 1)
        v += 1 if v >= i else 0
        fresh = True
        for j in range(count):
            if out[j] == v:
                fresh = False
        if fresh:
            out[count] = v
            count += 1


@nb.njit(cache=True, nogil=True)
def _differential_mutant(rng, a, b, c, f, flags, out):  # noqa: ANN001, ANN202, PLR0913
    """de.differential_mutant into `out`: a moved by F towards b and away from c."""
    n = a.shape[0]
    for j in range(n):
        out[j] = a[j]
        flags[a[j]] |= IN_A
        flags[b[j]] |= IN_B
        flags[c[j]] |= IN_C
    incoming = np.empty(n, dtype=np.int64)
    taken = 0
    for j in range(n):
        v = b[j]
        if not flags[v] & (IN_A | IN_C) and rng.random() < f:
            incoming[taken] = v
            taken += 1
    if taken > 0:
        first = np.empty(n, dtype=np.int64)
        rest = np.empty(n, dtype=np.int64)
        n_first = 0
        n_rest = 0
        for j in range(n):
            g = flags[a[j]]
            if g & IN_B:
                continue
            if g & IN_C:
                first[n_first] = j
                n_first += 1
            else:
                rest[n_rest] = j
                n_rest += 1
        _shuffle_head(rng, first, n_first, taken)
        if taken > n_first:
            _shuffle_head(rng, rest, n_rest, taken - n_first)
        k = 0
        for j in range(n_first):
            if k < taken:
                out[first[j]] = incoming[k]
                k += 1
        for j in range(n_rest):
            if k < taken:
                out[rest[j]] = incoming[k]
                k += 1
    for j in range(n):
        flags[a[j]] = 0
        flags[b[j]] = 0
        flags[c[j]] = 0


@nb.njit(cache=True, nogil=True)
def de_trials(rng, pop, f, cr, flags):  # noqa: ANN001, ANN201
    """The default DE's trial of every member: DE/rand/1 mutant from three other
    members, then binomial crossover (each mutant strategy the member lacks
    comes in with probability CR, at least one)."""
    size, n = pop.shape
    trials = np.empty_like(pop)
    others = np.empty(3, dtype=np.int64)
    mutant = np.empty(n, dtype=np.int64)
    no_keep = np.empty(0, dtype=np.int64)
    for i in range(size):
        _three_others(rng, size, i, others)
        _differential_mutant(rng, pop[others[0]], pop[others[1]], pop[others[2]], f, flags, mutant)
        _move_towards(rng, pop[i], mutant, cr, no_keep, True, flags, trials[i])
    return trials


# ------------------------------------------------------------------ dispatch


def mutate(
    rng: np.random.Generator, n_total: int, sets: np.ndarray, rate: float, flags: np.ndarray
) -> np.ndarray:
    """moves.mutate_rows, compiled where it is exact (2 n < N: the rejection draws)."""
    from stratopt.algorithms.moves import mutate_rows as numpy_mutate_rows

    if 2 * sets.shape[1] >= n_total:
        return numpy_mutate_rows(rng, n_total, sets, rate)
    return mutate_rows(rng, n_total, np.ascontiguousarray(sets, dtype=np.int64), rate, flags)
