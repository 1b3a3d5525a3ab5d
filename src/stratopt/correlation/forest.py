"""A maximum-r spanning forest of the near-duplicate pairs (Kruskal, union-find).

A shard keeps, of its near-duplicate pairs, only a spanning forest: the same
connected components (the near-duplicate groups) with at most N - 1 edges.
Plain Python over the pairs sorted once: the twin's shards hold 2,400-14,000
such pairs (10-20 ms here), where scipy.sparse.csgraph's import alone cost
each shard job 0.42 s of CPU (docs/performance.md).
"""

from __future__ import annotations

import numpy as np


def spanning_forest(i: np.ndarray, j: np.ndarray, r: np.ndarray, n: int) -> np.ndarray:
    """Indices of the edges i-j (nodes < n) that form a maximum-r spanning forest,
    sorted by (i, j): highest r first, ties to the smaller (i, j), each edge kept
    when it joins two components."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    kept = []
    for k, a, b in zip(*_by_r(i, j, r), strict=True):
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
            kept.append(k)
    keep = np.asarray(kept, dtype=np.int64)
    return keep[np.lexsort((j[keep], i[keep]))]


def _by_r(i: np.ndarray, j: np.ndarray, r: np.ndarray) -> tuple[list[int], list[int], list[int]]:
    order = np.lexsort((j, i, -np.asarray(r, dtype=np.float64)))
    return order.tolist(), i[order].tolist(), j[order].tolist()
