"""The near-duplicate spanning forest: the same groups with at most N - 1 edges, of maximum r."""

from __future__ import annotations

import numpy as np
import pytest

from import_support import packages_after
from stratopt.correlation.forest import spanning_forest
from stratopt.correlation.merge import component_roots


def _pairs(seed: int, n: int, m: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    keep = a != b
    i, j = np.minimum(a, b)[keep], np.maximum(a, b)[keep]
    key = np.unique(i * n + j)
    r = np.round(rng.uniform(0.99, 1.0, len(key)), 3)  # ties on purpose
    return key // n, key % n, r


@pytest.mark.parametrize(("seed", "n", "m"), [(1, 30, 40), (2, 200, 150), (3, 50, 2000)])
def test_the_forest_keeps_every_group_and_has_maximum_weight(seed: int, n: int, m: int) -> None:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    i, j, r = _pairs(seed, n, m)
    keep = spanning_forest(i, j, r, n)
    np.testing.assert_array_equal(component_roots(i[keep], j[keep], n), component_roots(i, j, n))
    groups = len(np.unique(component_roots(i, j, n)))
    assert len(keep) == n - groups  # a forest: no edge closes a cycle
    order = np.lexsort((j[keep], i[keep]))
    np.testing.assert_array_equal(order, np.arange(len(keep)))  # sorted by (i, j)
    tree = minimum_spanning_tree(coo_matrix((2.0 - r, (i, j)), shape=(n, n)).tocsr())
    assert (2.0 * len(keep) - r[keep].sum()) == pytest.approx(tree.sum())  # scipy's weight


def test_ties_go_to_the_smaller_pair_and_the_answer_never_varies() -> None:
    i, j, r = np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([1.0, 1.0, 1.0])
    np.testing.assert_array_equal(spanning_forest(i, j, r, 3), [0, 1])  # (1, 2) closes the cycle
    i, j, r = _pairs(9, 100, 900)
    first = spanning_forest(i, j, r, 100)
    shuffled = np.random.default_rng(0).permutation(len(i))
    again = shuffled[spanning_forest(i[shuffled], j[shuffled], r[shuffled], 100)]
    np.testing.assert_array_equal(np.sort(again), np.sort(first))  # input order does not matter


def test_a_shard_job_does_not_import_scipy() -> None:
    """scipy.sparse.csgraph's import cost each shard job 0.42 s of CPU (docs/performance.md)."""
    code = (
        "import numpy as np\n"
        "import stratopt.stages.correlation_shard\n"
        "from stratopt.correlation.pairs import Pairs\n"
        "from stratopt.correlation.shard import spanning_forest\n"
        "p = Pairs(np.array([0, 0, 1]), np.array([1, 2, 2]), np.array([0.995, 0.999, 0.991]))\n"
        "assert len(spanning_forest(p, 3)) == 2\n"
    )
    assert packages_after(code, ["scipy"]) == []
