"""Merging K shard summaries into the statistics of the whole matrix.

Counts add; top lists and partners are re-ranked with the same tie rule as
in the shards (r, then the pair); the near-duplicate forests are unioned and
their connected components taken (a union-find). The window-by-window means come straight from the matrix (by
linearity they need no pairs at all). Nothing here depends on how the pairs were split into shards.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stratopt.correlation.forest import Components
from stratopt.correlation.pairs import Pairs, ranked
from stratopt.correlation.plan import total_pairs
from stratopt.correlation.shard import ShardSummary, constant_columns, normalised
from stratopt.data.matrix import Matrix
from stratopt.data.names import window_of
from stratopt.errors import InputError


def check_complete(shards: list[ShardSummary], sources: list[str]) -> None:
    """All K shards of one run, each once, with the same settings and shape."""
    if not shards:
        raise InputError("<shards>", "no shard summaries to merge")
    first = shards[0].meta
    keys = ("shards", "n_strategies", "n_days", "settings")
    for s, src in zip(shards, sources, strict=True):
        for k in keys:
            if s.meta[k] != first[k]:
                raise InputError(
                    src,
                    f"shard disagrees with {sources[0]} on {k!r}: {s.meta[k]!r} != {first[k]!r}",
                )
    seen = sorted(s.meta["shard"] for s in shards)
    if seen != list(range(first["shards"])):
        raise InputError(sources[0], f"expected shards 0..{first['shards'] - 1}, got {seen}")
    pairs = sum(s.meta["pairs"] for s in shards)
    if pairs != total_pairs(first["n_strategies"]):
        raise InputError(
            sources[0],
            f"shards cover {pairs} pairs, expected N(N-1)/2 = {total_pairs(first['n_strategies'])}",
        )


def _concat(parts: list[Pairs]) -> Pairs:
    return Pairs(
        np.concatenate([p.i for p in parts]).astype(np.int64),
        np.concatenate([p.j for p in parts]).astype(np.int64),
        np.concatenate([p.r for p in parts]).astype(np.float64),
    )


def best_partners(parts: list[Pairs], n: int) -> Pairs:
    """Per strategy the partner with the highest r, ties to the smaller index."""
    p = _concat(parts)
    order = np.lexsort((p.j, -p.r, p.i))
    p = p.take(order)
    first = np.ones(len(p), dtype=bool)
    first[1:] = p.i[1:] != p.i[:-1]
    return p.take(first)


def component_roots(i: np.ndarray, j: np.ndarray, n: int) -> np.ndarray:
    """Per node, the smallest node of its connected component (edges i-j, undirected).

    A union-find over the forest's edges (4,393 on the twin) instead of
    scipy.sparse.csgraph, whose import cost the correlation_summary job more
    CPU than the whole merge (docs/performance.md).
    """
    components = Components(n)
    for a, b in zip(i.tolist(), j.tolist(), strict=True):
        components.join(a, b)
    return np.fromiter((components.root(x) for x in range(n)), dtype=np.int64, count=n)


def near_duplicate_groups(forest: Pairs, n: int) -> list[np.ndarray]:
    """Connected components with at least two strategies, largest first, each sorted."""
    if len(forest) == 0:
        return []
    label = component_roots(forest.i, forest.j, n)
    sizes = np.bincount(label, minlength=n)
    groups = [np.flatnonzero(label == g) for g in np.flatnonzero(sizes >= 2)]
    groups.sort(key=lambda g: (-len(g), int(g[0])))
    return groups


def window_index(names: list[str]) -> tuple[list[str], np.ndarray]:
    """The windows in time order and each strategy's window number (-1: no window)."""
    found = [window_of(n) for n in names]
    labels = sorted({w for w in found if w}, key=lambda w: tuple(int(p) for p in w.split("-")))
    number = {w: k for k, w in enumerate(labels)}
    return labels, np.array([number[w] if w else -1 for w in found], dtype=np.int64)


def _window_sums(
    z: np.ndarray, ids: np.ndarray, w: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per window: the sum of its z columns (T x W), of their z_i . z_i, and its size.

    Summed by NumPy in strategy order, not by a BLAS product (z @ onehot): a
    threaded BLAS splits a long sum between its threads, so the last bits of
    the window means followed OPENBLAS_NUM_THREADS (a stage job has one
    thread, `stratopt correlate merge` in a shell had every core)."""
    order = np.argsort(ids, kind="stable")
    order = order[ids[order] >= 0]
    n = np.bincount(ids[order], minlength=w).astype(np.float64)
    if w == 0 or order.size == 0:
        return np.zeros((z.shape[0], w)), np.zeros(w), n
    starts = np.concatenate([[0], np.cumsum(n[:-1])]).astype(np.int64)
    present = n > 0
    a = np.zeros((z.shape[0], w))
    self_dot = np.zeros(w)
    zs = z[:, order]
    a[:, present] = np.add.reduceat(zs, starts[present], axis=1)
    self_dot[present] = np.add.reduceat(np.einsum("ti,ti->i", zs, zs), starts[present])
    return a, self_dot, n


def window_means(matrix: Matrix) -> tuple[list[str], np.ndarray, np.ndarray, int]:
    """(windows, mean r, pairs) for every window pair, without any N x N matrix.

    By linearity, the sum of r_ij over i in window a, j in window b is
    (sum of z_i over a) . (sum of z_j over b): with A = Z @ onehot (T x W),
    A^T A holds every ordered sum; removing i = j (z_i . z_i) and dividing by
    the ordered pair counts gives the mean over distinct pairs. Constant
    columns count with r = 0. NaN where a window pair has no pairs. The last
    item is the number of strategies without a window.
    """
    labels, ids = window_index(matrix.names)
    w = len(labels)
    has = ids >= 0
    z = normalised(matrix.values, constant_columns(matrix.values))
    a, self_dot, n = _window_sums(z, ids, w)
    # einsum's own loop, not BLAS: the same bits whatever BLAS's thread count
    ordered_sum = np.einsum("ta,tb->ab", a, a) - np.diag(self_dot)
    ordered_pairs = np.outer(n, n) - np.diag(n)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(
            ordered_pairs > 0, ordered_sum / np.where(ordered_pairs > 0, ordered_pairs, 1), np.nan
        )
    pairs = ordered_pairs.astype(np.int64)
    pairs[np.diag_indices_from(pairs)] //= 2
    return labels, mean, pairs, int((~has).sum())


def _clip(r: float) -> float:
    """As numpy.corrcoef reports it: rounding can leave |r| a few ulp above 1."""
    return min(1.0, max(-1.0, float(r)))


def _pair_rows(p: Pairs, names: list[str]) -> list[dict[str, Any]]:
    return [
        {"i": int(i), "j": int(j), "a": names[i], "b": names[j], "r": _clip(r)}
        for i, j, r in zip(p.i, p.j, p.r, strict=True)
    ]


def merge_shards(
    shards: list[ShardSummary], matrix: Matrix, sources: list[str] | None = None
) -> dict[str, Any]:
    """The whole matrix's statistics as a JSON-able dict (correlation.json).

    `matrix` is the one the shards read: its names label the pairs and its
    columns give the window means directly (window_means).
    """
    sources = sources or [f"shard {s.meta.get('shard')}" for s in shards]
    check_complete(shards, sources)
    meta = shards[0].meta
    n, settings = meta["n_strategies"], meta["settings"]
    names = matrix.names
    if matrix.shape != (meta["n_days"], n):
        raise InputError(
            "<matrix>",
            f"matrix is {matrix.shape[0]} x {matrix.shape[1]}, shards were computed on {meta['n_days']} x {n}",
        )
    pairs = total_pairs(n)
    hist = np.sum([s.hist for s in shards], axis=0)
    counts = np.sum([s.threshold_counts for s in shards], axis=0)
    k = settings["top_pairs"]
    top_pos = ranked(_concat([s.top_positive for s in shards]), n, k, descending=True)
    top_neg = ranked(_concat([s.top_negative for s in shards]), n, k, descending=False)
    partners = best_partners([s.partners for s in shards], n)
    forest = _concat([s.near_duplicate_forest for s in shards])
    groups = near_duplicate_groups(forest, n)
    windows, mean, window_pairs, no_window = window_means(matrix)
    edges = np.linspace(-1.0, 1.0, settings["bins"] + 1)
    return {
        "n_strategies": n,
        "n_days": meta["n_days"],
        "pairs": pairs,
        "shards": meta["shards"],
        "settings": settings,
        "histogram": {"edges": edges.tolist(), "counts": hist.tolist()},
        "thresholds": [
            {"abs_r_at_least": t, "pairs": int(c), "fraction": (int(c) / pairs) if pairs else 0.0}
            for t, c in zip(settings["thresholds"], counts, strict=True)
        ],
        "top_pairs": {
            "positive": _pair_rows(top_pos, names),
            "negative": _pair_rows(top_neg, names),
        },
        "partners": [
            {"strategy": names[i], "partner": names[j], "r": _clip(r)}
            for i, j, r in zip(partners.i, partners.j, partners.r, strict=True)
        ],
        "near_duplicates": {
            "threshold": settings["near_duplicate"],
            "pairs": sum(s.near_duplicate_pairs for s in shards),
            "groups": len(groups),
            "strategies_in_groups": int(sum(len(g) for g in groups)),
            "members": [[names[i] for i in g] for g in groups],
        },
        "windows": {
            "labels": windows,
            "mean_r": [[None if np.isnan(x) else float(x) for x in row] for row in mean],
            "pairs": window_pairs.tolist(),
            "strategies_without_window": no_window,
        },
        "shard_seconds": [
            s.meta.get("seconds") for s in sorted(shards, key=lambda s: s.meta["shard"])
        ],
    }
