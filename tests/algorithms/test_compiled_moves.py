"""The compiled move operators (stratopt.algorithms.compiled) against the NumPy rules.

Legacy operators must draw the same numbers and return the same arrays as
the NumPy code they replace (the legacy presets keep their results bit for
bit); the default presets' operators must make the same moves in law
(their samples differ); the ACO trail and the BO surrogate must equal their
plain statements.
"""

from __future__ import annotations

import numpy as np
import pytest

from stratopt.algorithms import compiled as C
from stratopt.algorithms import de, ga, sum_tree
from stratopt.algorithms import moves as M
from stratopt.algorithms.aco import Trail
from stratopt.algorithms.bo import InclusionSurrogate

N = 25_544


def same_stream(a: np.random.Generator, b: np.random.Generator) -> bool:
    """Both generators at the same point: their next draws agree."""
    return a.random() == b.random() and a.integers(0, 1 << 30) == b.integers(0, 1 << 30)


@pytest.mark.parametrize("seed", range(40))
def test_mutation_is_the_numpy_rule_draw_for_draw(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_total = N if seed % 2 else 60  # small N: collisions, redrawn rows
    n = int(rng.integers(1, min(101, n_total // 2)))
    sets = M.random_subsets(rng, n_total, n, int(rng.integers(2, 40)))
    rate = float(rng.choice([0.01, 0.05, 0.1, 0.3, 0.5]))
    flags = C.scratch(n_total)
    a, b = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    assert np.array_equal(
        M.mutate_rows(a, n_total, sets, rate), C.mutate(b, n_total, sets, rate, flags)
    )
    assert same_stream(a, b)
    assert not flags.any()


@pytest.mark.parametrize("seed", range(40))
def test_tournaments_and_legacy_partners_are_the_numpy_draws(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(2, 40))
    fitness = rng.normal(size=size)
    if seed % 5 == 0:
        fitness[rng.integers(size)] = np.nan  # np.argmax: the first NaN wins
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    want = ga.tournament_winners(a, fitness, 2 * size)
    got = C.tournament_winners(b, fitness, 2 * size, min(ga.TOURNAMENT, size))
    assert np.array_equal(want, got) and same_stream(a, b)
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    want = np.array([de.other_members(a, size, i, 1)[0] for i in range(size)])
    assert np.array_equal(want, C.legacy_partners(b, size)) and same_stream(a, b)


@pytest.mark.parametrize("seed", range(60))
def test_ga_breeding_is_the_numpy_rules_draw_for_draw(seed: int) -> None:
    """Tournaments, union crossover and mutation in one compiled call (2 n < N), or
    three (2 n >= N: NumPy's mutation), against the NumPy statements."""
    rng = np.random.default_rng(seed)
    n_total = (N, 200, 60, 40)[seed % 4]  # small N: 2 n >= N, shared genes, redrawn rows
    n = int(rng.integers(1, min(101, n_total)))
    size = int(rng.integers(2, 40))
    pop = M.random_subsets(rng, n_total, n, size)
    fitness = rng.normal(size=size)
    if seed % 7 == 0:
        fitness[rng.integers(size)] = np.nan
    rate = float(rng.choice([0.01, 0.1, 0.3]))
    flags = C.scratch(n_total)
    a, b = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    want = ga.numpy_breed(a, n_total, pop, fitness, rate)
    got = ga.breed(b, n_total, pop, fitness, rate, flags)
    assert np.array_equal(want, got) and same_stream(a, b)
    assert not flags.any()
    a, b = np.random.default_rng(seed), np.random.default_rng(seed)
    other = pop[rng.permutation(size)]
    want = M.pick_from_union(a, pop, other, n)
    assert np.array_equal(want, C.union_picks(b, pop, other, n, flags)) and same_stream(a, b)
    for child, x, y in zip(want.tolist(), pop.tolist(), other.tolist(), strict=True):
        assert len(set(child)) == n and set(child) <= set(x) | set(y)


def test_ga_crossover_draws_the_union_uniformly() -> None:
    """Each member of the union is picked with probability n / |union|, at each place."""
    rng = np.random.default_rng(5)
    a, b = np.array([[0, 1, 2, 3]]), np.array([[2, 3, 4, 5]])  # union of 6, n = 4
    draws = 12_000
    counts = np.zeros((4, 6))
    for _ in range(draws):
        child = C.union_picks(rng, a, b, 4, C.scratch(6))[0]
        counts[np.arange(4), child] += 1
    assert np.allclose(counts / draws, 1 / 6, atol=0.015)


def test_default_pso_and_de_moves_keep_portfolios_valid() -> None:
    rng = np.random.default_rng(3)
    pop = M.random_subsets(rng, N, 35, 30)
    flags = C.scratch(N)
    for _ in range(20):
        moved = C.pso_attract(rng, pop, M.random_subsets(rng, N, 35, 30), pop[0], 0.5, 0.5, flags)
        trials = C.de_trials(rng, pop, 0.5, 0.3, flags)
        for rows in (moved, trials):
            assert rows.shape == pop.shape
            assert all(len(set(r.tolist())) == 35 for r in rows)
        assert not flags.any()
        # a DE trial takes at least one strategy of its mutant: never the member itself
        assert all(set(t.tolist()) != set(p.tolist()) for t, p in zip(trials, pop, strict=True))
        pop = moved


def test_compiled_pso_move_has_the_numpy_move_law() -> None:
    """Membership probabilities of the attraction move, NumPy rule vs compiled, agree."""
    n_total, n, draws = 200, 8, 6000
    rng = np.random.default_rng(11)
    x = M.random_subsets(rng, n_total, n, 1)
    pbest = np.concatenate([x[:, :3], M.random_subsets(rng, n_total, n, 1)[:, 3:]], axis=1)
    pbest = M.dedupe_rows(rng, n_total, pbest)
    gbest = M.random_subsets(rng, n_total, n, 1)[0]
    flags = C.scratch(n_total)
    freq = {}
    for name in ("numpy", "compiled"):
        r = np.random.default_rng(5)
        counts = np.zeros(n_total)
        for _ in range(draws):
            if name == "numpy":
                r1, r2 = r.random(2)
                step = M.move_towards(r, x[0], pbest[0], 0.5 * r1, keep=gbest)
                out = M.move_towards(r, step, gbest, 0.5 * r2, keep=pbest[0])
            else:
                out = C.pso_attract(r, x, pbest, gbest, 0.5, 0.5, flags)[0]
            counts[out] += 1
        freq[name] = counts / draws
    assert np.abs(freq["numpy"] - freq["compiled"]).max() < 5 * np.sqrt(0.25 / draws)


def test_trail_equals_the_sequential_max_min_rule() -> None:
    for n_total, n, iterations in ((50, 5, 300), (7, 3, 200), (2000, 20, 60)):
        rng = np.random.default_rng(n_total)
        rho, deposit, tau_max = 0.1, 0.2 * n_total / n, 1 + n_total / n
        trail = Trail(n_total, 1.0, rho, deposit, tau_max)
        tau = np.ones(n_total)
        for _ in range(iterations):  # long enough for the floor 1/N to bind
            a, b = rng.choice(n_total, n, replace=False), rng.choice(n_total, n, replace=False)
            tau *= 1 - rho
            tau[a] += deposit
            tau[b] += deposit
            np.clip(tau, 1 / n_total, tau_max, out=tau)
            trail.update(a, b)
            np.testing.assert_allclose(trail.tau(), tau, rtol=1e-12)
            leaves = trail.tree[trail.leaves : trail.leaves + n_total]
            np.testing.assert_allclose(leaves * trail.scale, tau, rtol=1e-12)


def test_sum_tree_samples_without_replacement_in_proportion() -> None:
    """Inclusion frequencies of the sum-tree ants equal Gumbel top-k's (the same law)."""
    weights = np.array([1.0, 2.0, 3.0, 0.5, 4.0, 1.5])
    leaves = 8
    tree = np.zeros(2 * leaves)
    sum_tree.tree_build(weights, tree, leaves)
    rng = np.random.default_rng(0)
    draws = 40_000
    flags = np.zeros(6, dtype=np.uint8)
    ants = sum_tree.sample_ants(rng, tree, leaves, 2, draws, flags)
    assert all(a[0] != a[1] for a in ants)
    assert not flags.any()  # the scratch handed back zeroed
    gumbel = np.argpartition(-(np.log(weights) + rng.gumbel(size=(draws, 6))), 1, axis=1)[:, :2]
    got = np.bincount(ants.ravel(), minlength=6) / draws
    want = np.bincount(gumbel.ravel(), minlength=6) / draws
    np.testing.assert_allclose(got, want, atol=0.015)
    np.testing.assert_array_equal(tree[leaves : leaves + 6], weights)  # restored after each ant


def sequential_inclusion(weights: np.ndarray, n: int) -> np.ndarray:
    """Exact inclusion probabilities of sequential sampling without replacement (enumeration)."""
    out = np.zeros(len(weights))

    def walk(held: tuple[int, ...], p: float) -> None:
        if len(held) == n:
            out[list(held)] += p
            return
        free = [i for i in range(len(weights)) if i not in held]
        total = sum(weights[i] for i in free)
        for i in free:
            walk((*held, i), p * weights[i] / total)

    walk((), 1.0)
    return out


@pytest.mark.parametrize(
    "weights, n",
    [
        ([1.0, 2.0, 3.0, 0.5, 4.0, 1.5], 4),  # held weight passes half: the ant switches
        ([50.0, 30.0, 1.0, 1.0, 0.01, 0.02, 0.5], 3),  # one heavy strategy: the switch at once
        ([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0], 6),  # rejection all the way to n - 1 of N
    ],
)
def test_sum_tree_ants_keep_the_sequential_law_through_the_switch(
    weights: list[float], n: int
) -> None:
    """Both ways of drawing (rejection while the ant holds under half the weight, then
    taking drawn strategies out of the tree) give sequential sampling's law exactly."""
    w = np.array(weights)
    leaves = 8
    tree = np.zeros(2 * leaves)
    sum_tree.tree_build(w, tree, leaves)
    before = tree.copy()
    flags = np.zeros(len(w), dtype=np.uint8)
    draws = 60_000
    ants = sum_tree.sample_ants(np.random.default_rng(1), tree, leaves, n, draws, flags)
    assert all(len(set(a.tolist())) == n for a in ants)
    np.testing.assert_array_equal(tree, before)  # every node restored, bit for bit
    assert not flags.any()
    got = np.bincount(ants.ravel(), minlength=len(w)) / draws
    np.testing.assert_allclose(got, sequential_inclusion(w, n), atol=0.012)
    # the first pick alone: in proportion to the weights
    first = np.bincount(ants[:, 0], minlength=len(w)) / draws
    np.testing.assert_allclose(first, w / w.sum(), atol=0.01)


def test_surrogate_posterior_equals_the_dense_dual_solve() -> None:
    n_total, n = 3000, 10
    rng = np.random.default_rng(0)
    model = InclusionSurrogate(n_total, n, max_model=64)
    sets_seen, values = [], []
    for r in range(5):
        if r == 0:
            sets = M.random_subsets(rng, n_total, n, 12)
        else:
            model.refit()
            sets = model.propose(rng, 8, 0.1, 0.1)
        assert all(len(set(s.tolist())) == n for s in sets)
        y = rng.normal(size=len(sets))
        model.add(sets, y)
        sets_seen += list(sets)
        values += list(y)
        mean, _, seen = model.posterior()
        member = np.zeros((len(values), n_total))
        for j, s in enumerate(sets_seen):
            member[j, s] = 1.0
        tau2 = float(n)
        gram = tau2 * (member @ member.T) / n**2 + np.eye(len(values))
        yz = (np.array(values) - np.mean(values)) / np.std(values)
        want = tau2 / n * member.T @ np.linalg.solve(gram, yz)
        np.testing.assert_allclose(mean, want, atol=1e-12)
        np.testing.assert_array_equal(seen, member.sum(axis=0))


def test_surrogate_keeps_at_most_max_model_observations() -> None:
    rng = np.random.default_rng(1)
    model = InclusionSurrogate(500, 5, max_model=16)
    for _ in range(10):
        sets = M.random_subsets(rng, 500, 5, 7)
        model.add(sets, rng.normal(size=7))
        assert model.m <= 16
        held = np.unique(model.sets[: model.m])
        assert set(held.tolist()) == set(np.flatnonzero(model.seen).tolist())
        assert model.n_cand == len(held) and model.is_cand.sum() == len(held)
