"""BO's compiled pieces give what the NumPy statements they replace give."""

from __future__ import annotations

import numpy as np
import pytest

from stratopt.algorithms import moves as M
from stratopt.algorithms.bo import InclusionSurrogate
from stratopt.algorithms.bo_algebra import SHORTLIST_BAND, _kth_smallest, _shortlist


@pytest.mark.parametrize("seed", range(6))
def test_kth_smallest_is_the_partitions_value(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(300):
        count = int(rng.integers(1, 400))
        k = int(rng.integers(1, count + 1))
        values = rng.normal(size=count)
        if seed % 2:
            values = values.round(1)  # ties
        if seed == 4:
            values[rng.integers(0, count)] = -np.inf
        heap = np.empty(k)
        assert _kth_smallest(values, k, heap) == np.partition(values, k - 1)[k - 1]


def test_kth_smallest_with_nan_falls_back_to_the_partition() -> None:
    values = np.array([3.0, np.nan, 1.0, 2.0, -1.0])
    for k in range(1, len(values) + 1):
        got = _kth_smallest(values, k, np.empty(k))
        want = np.partition(values, k - 1)[k - 1]
        assert got == want or (np.isnan(got) and np.isnan(want))


def _python_model(n_total: int, n: int, max_model: int, sets: np.ndarray, values: np.ndarray):
    """The observations the model must hold: the better half kept when full (ties: earlier)."""
    held: list[tuple[np.ndarray, float]] = []
    for s, v in zip(sets, values, strict=True):
        if len(held) == max_model:
            order = np.argsort(-np.array([h[1] for h in held]), kind="stable")[: max_model // 2]
            held = [held[i] for i in np.sort(order)]
        held.append((s, float(v)))
    return held


def test_a_batch_of_observations_keeps_the_better_half_in_order() -> None:
    rng = np.random.default_rng(5)
    n_total, n, cap = 200, 6, 8
    sets = np.stack([rng.choice(n_total, size=n, replace=False) for _ in range(29)])
    values = rng.normal(size=29).round(1)  # ties among the values
    model = InclusionSurrogate(n_total, n, max_model=cap)
    model.add(sets[:5], values[:5])
    model.add(sets[5:], values[5:])
    held = _python_model(n_total, n, cap, sets, values)
    assert model.m == len(held)
    np.testing.assert_array_equal(model.sets[: model.m], np.stack([h[0] for h in held]))
    np.testing.assert_array_equal(model.values[: model.m], [h[1] for h in held])
    seen = np.bincount(np.concatenate([h[0] for h in held]), minlength=n_total)
    np.testing.assert_array_equal(model.seen, seen)
    assert sorted(model.cand[: model.n_cand]) == sorted(np.nonzero(seen)[0])
    # the factor is that of I + scale * overlap over the held sets
    scale = model.prior_var / (n * n)
    member = np.zeros((model.m, n_total))
    for j, (s, _) in enumerate(held):
        member[j, s] = 1.0
    gram = np.eye(model.m) + scale * member @ member.T
    chol = np.tril(model.chol[: model.m, : model.m])
    np.testing.assert_allclose(chol @ chol.T, gram, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", range(4))
def test_the_shortlist_is_the_stable_top_k_of_the_optimistic_score(seed: int) -> None:
    """The `keep` largest mean + band x scale, ties to the earlier candidates, in
    candidate order: what a stable argsort gives."""
    rng = np.random.default_rng(seed)
    for _ in range(200):
        count = int(rng.integers(1, 300))
        keep = int(rng.integers(1, count + 1))
        loc = rng.normal(size=count)
        scale = rng.uniform(0.1, 1.0, size=count)
        if seed % 2:  # ties
            loc, scale = loc.round(1), np.full(count, 0.5)
        score = loc + SHORTLIST_BAND * scale
        want = np.sort(np.argsort(-score, kind="stable")[:keep])
        np.testing.assert_array_equal(_shortlist(loc, scale, keep), want)


def test_proposals_with_a_shortlist_draw_only_from_it() -> None:
    n_total, n = 4000, 12
    rng = np.random.default_rng(3)
    model = InclusionSurrogate(n_total, n, max_model=64)
    model.add(M.random_subsets(rng, n_total, n, 60), rng.normal(size=60))
    model.refit()
    mean, sd, _ = model.posterior()
    cand = model.cand[: model.n_cand]
    score = mean[cand] + SHORTLIST_BAND * 0.1 * sd[cand]
    listed = set(cand[np.argsort(-score, kind="stable")[: 2 * n]].tolist())
    sets = model.propose(rng, 50, 0.1, 0.0, shortlist=2.0)
    assert all(len(set(s.tolist())) == n for s in sets)
    assert set(sets.ravel().tolist()) <= listed
    everyone = model.propose(rng, 50, 0.1, 0.0, shortlist=None)
    assert not set(everyone.ravel().tolist()) <= listed


@pytest.mark.parametrize("seed", range(4))
def test_appending_a_batch_gives_the_factor_of_appending_one_at_a_time_bit_for_bit(
    seed: int,
) -> None:
    """bo_append_many (interleaved solves, overlaps for a whole batch) against bo_append
    row by row: the same sets and the same factor, bit for bit, with batches of more
    than 64 rows, an empty model and sets drawn from a small pool (heavy overlaps)."""
    from stratopt.algorithms.bo_algebra import bo_append, bo_append_many

    rng = np.random.default_rng(seed)
    n_total = 400
    for trial in range(150):
        n = int(rng.integers(1, 14))
        b = int(rng.integers(1, 150 if trial % 3 == 0 else 40))
        m = int(rng.integers(0, 50))
        cap = m + b
        scale = float(rng.uniform(0.01, 1.0))
        pool = rng.choice(n_total, n + int(rng.integers(0, 3 * n + 1)), replace=False)
        sets = [rng.choice(pool, n, replace=False) for _ in range(cap)]
        one = (np.zeros((cap, n), np.int64), np.zeros((cap, cap)))
        many = (np.zeros((cap, n), np.int64), np.zeros((cap, cap)))
        flags, masks = np.zeros(n_total, np.uint8), np.zeros(n_total, np.uint64)
        for j in range(m):
            bo_append(one[0], j, sets[j], one[1], scale, flags)
            bo_append(many[0], j, sets[j], many[1], scale, flags)
        for q in range(b):
            bo_append(one[0], m + q, sets[m + q], one[1], scale, flags)
        bo_append_many(many[0], m, np.array(sets[m:]), many[1], scale, masks)
        np.testing.assert_array_equal(one[0], many[0])
        lower = np.tril(one[1]), np.tril(many[1])
        assert np.array_equal(lower[0].view(np.uint64), lower[1].view(np.uint64)), trial
        assert not flags.any() and not masks.any()  # the scratch handed back zeroed
