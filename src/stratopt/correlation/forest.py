"""A maximum-r spanning forest of the near-duplicate pairs (Kruskal, union-find).

A shard keeps, of its near-duplicate pairs, only a spanning forest: the same
connected components (the near-duplicate groups) with at most N - 1 edges.
Plain Python over the pairs sorted once: the twin's shards hold 2,400-14,000
such pairs (10-20 ms here), where scipy.sparse.csgraph's import alone cost
each shard job 0.42 s of CPU (docs/performance.md).
"""

from __future__ import annotations

import numpy as np


class Components:
    """A union-find over the nodes 0..n-1: path halving, the smaller root kept."""

    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def root(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def join(self, a: int, b: int) -> bool:
        """Put a and b in one component; False when they already were."""
        ra, rb = self.root(a), self.root(b)
        if ra == rb:
            return False
        self.parent[max(ra, rb)] = min(ra, rb)
        return True


def spanning_forest(i: np.ndarray, j: np.ndarray, r: np.ndarray, n: int) -> np.ndarray:
    """Indices of the edges i-j (nodes < n) that form a maximum-r spanning forest,
    sorted by (i, j): highest r first, ties to the smaller (i, j), each edge kept
    when it joins two components."""
    components = Components(n)
    kept = [k for k, a, b in zip(*_by_r(i, j, r), strict=True) if components.join(a, b)]
    keep = np.asarray(kept, dtype=np.int64)
    return keep[np.lexsort((j[keep], i[keep]))]


def _by_r(i: np.ndarray, j: np.ndarray, r: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    order = np.lexsort((j, i, -np.asarray(r, dtype=np.float64)))
    return order.tolist(), i[order].tolist(), j[order].tolist()
