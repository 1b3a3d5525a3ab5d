"""One shard: its tiles of the correlation matrix, reduced to a small summary.

The P&L matrix goes to the device once; the columns are normalised there
(r_ij = z_i . z_j, stratopt.engine.normalise) and each tile r = Z_I^T Z_J is one
matrix product, reduced at once and dropped: only the shard's tiles are ever
computed and at most one tile is alive (one per thread with
`threads`). All reductions stay on the device;
the small results come back once at the end. The same code runs with
xp = numpy or xp = cupy.

Per tile, every r becomes one uint16 code on a fine grid (settings.py); one
bincount of the codes gives the histogram, the threshold counts and the
near-duplicate count. In float64, values within `delta` of a grid boundary
("specials": in practice a handful) are settled exactly (exact.py).

With NumPy the tiles are reduced by a compiled kernel in one pass each
(fused.py, the same results bit for bit); _Reducer below is the array path,
used with CuPy, with STRATOPT_NO_NUMBA=1 and as the reference in the tests.
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import numpy as np

from stratopt.correlation.exact import ExactColumns
from stratopt.correlation.pairs import Pairs, ranked
from stratopt.correlation.plan import Tile, plan_shards, split
from stratopt.correlation.settings import CorrelationSettings, Grid, on_grid
from stratopt.data.matrix import Matrix
from stratopt.engine.backend import to_numpy
from stratopt.engine.normalise import normalise_columns
from stratopt.errors import InputError

log = logging.getLogger(__name__)


@dataclass
class ShardSummary:
    """What one shard found; merge.py combines K of these."""

    meta: dict[str, Any]
    hist: np.ndarray  # int64 (bins,)
    threshold_counts: np.ndarray  # int64, one per settings.thresholds
    near_duplicate_pairs: int
    top_positive: Pairs
    top_negative: Pairs
    partners: Pairs  # i = strategy, j = its most correlated partner in this shard
    near_duplicate_forest: Pairs  # a spanning forest of the pairs with r >= threshold


def constant_columns(values: np.ndarray) -> np.ndarray:
    """Columns whose values are all equal (exactly): their r is 0 by the legacy rule."""
    if values.shape[0] == 0:
        return np.ones(values.shape[1], dtype=bool)
    return (values == values[:1]).all(axis=0)


def normalised(values: Any, constant: np.ndarray, xp: ModuleType = np) -> Any:
    """Unit-length centred columns (float64); exactly constant columns are zero.

    normalise_columns already zeroes a column whose centred norm is 0; a
    constant column whose mean does not round back to its value (0.1 * 82 /
    82) would escape that test, so constancy is decided on the raw values.
    """
    z = normalise_columns(values, xp, dtype=xp.float64)
    if constant.any():
        z[:, xp.asarray(np.flatnonzero(constant))] = 0.0
    return z


def check_finite(values: np.ndarray, source: str) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        t, i = np.argwhere(bad)[0]
        raise InputError(
            source,
            f"non-finite P&L value {values[t, i]!r}",
            line=int(t) + 1,
            column=f"strategy #{i}",
        )


class _Reducer:
    """Running statistics of one shard's tiles, held on the device."""

    def __init__(self, xp: ModuleType, n: int, n_days: int, settings: CorrelationSettings) -> None:
        grid = Grid.of(settings, n_days)
        self.xp = xp
        self.n = n
        self.s = settings
        self.cells, self.half, self.exact = grid.cells, grid.half, grid.exact
        self.delta, self.eps = grid.delta, grid.eps  # eps: delta in code units
        self.lowest_boundary = grid.lowest_boundary
        self.highest_boundary = grid.highest_boundary
        self.offgrid = list(grid.offgrid)
        self.offgrid_counts = [0] * len(self.offgrid)
        self.fine = xp.zeros(self.cells + 2, dtype=xp.int64)
        self.code_dtype = xp.uint8 if self.cells + 1 <= 255 else xp.uint16
        self._buffer: Any = None
        self.specials: list[tuple[Any, Any, Any, Any]] = []
        self.near: list[Pairs] = []
        self.top_pos = Pairs.empty(xp)
        self.top_neg = Pairs.empty(xp)
        self.best_r = xp.full(n, -2.0, dtype=xp.float64)
        self.best_j = xp.full(n, n, dtype=xp.int64)
        self._tri: dict[int, tuple[Any, Any]] = {}
        self._low: dict[int, tuple[Any, Any]] = {}

    # -- per tile ---------------------------------------------------------
    def add(self, tile: Tile, r: Any) -> None:
        xp = self.xp
        if tile.diagonal:
            rows, cols = self._upper(tile.row1 - tile.row0)
            flat = r[rows, cols]

            def where(idx: Any) -> tuple[Any, Any]:
                return rows[idx] + tile.row0, cols[idx] + tile.col0

            masked = r.copy()
            masked[self._lower(tile.row1 - tile.row0)] = -xp.inf
            self._partners(masked, tile.row0, tile.col0)
        else:
            width = tile.col1 - tile.col0
            flat = r.ravel()

            def where(idx: Any) -> tuple[Any, Any]:
                return idx // width + tile.row0, idx % width + tile.col0

            self._partners(r, tile.row0, tile.col0)
        self._codes(flat, where)
        self._offgrid(flat)
        self._near(flat, where)
        self._top(flat, where)

    def _upper(self, size: int) -> tuple[Any, Any]:
        if size not in self._tri:
            self._tri[size] = self.xp.triu_indices(size, 1)
        return self._tri[size]

    def _lower(self, size: int) -> tuple[Any, Any]:
        if size not in self._low:
            self._low[size] = self.xp.tril_indices(size)
        return self._low[size]

    def _codes(self, flat: Any, where: Any) -> None:
        xp = self.xp
        # u = (r + 1) F / 2 + eps: code = floor(u); a value within delta of a
        # boundary has a fractional part below 2 eps (eps = delta in code units)
        u = self._scratch(flat)
        xp.multiply(flat, self.half, out=u)
        u += self.half + self.eps
        codes = u.astype(self.code_dtype)
        self.fine += xp.bincount(codes, minlength=self.cells + 2)
        if not self.exact:
            return
        u -= codes
        idx = xp.flatnonzero(u < 2.0 * self.eps)
        if idx.size == 0:
            return
        boundary = codes[idx].astype(xp.int64)
        keep = (boundary >= self.lowest_boundary) & (boundary <= self.highest_boundary)
        idx = idx[keep]
        if idx.size:
            i, j = where(idx)
            self.specials.append((i, j, flat[idx].astype(xp.float64), codes[idx]))

    def _scratch(self, flat: Any) -> Any:
        """A reused buffer of flat's size and dtype: no allocation per tile."""
        size = flat.shape[0]
        if self._buffer is None or self._buffer.shape[0] < size or self._buffer.dtype != flat.dtype:
            self._buffer = self.xp.empty(max(size, 1), dtype=flat.dtype)
        return self._buffer[:size]

    def _offgrid(self, flat: Any) -> None:
        xp = self.xp
        for k, t in enumerate(self.offgrid):
            hits = xp.count_nonzero(flat >= t)
            if t > 0:
                hits = hits + xp.count_nonzero(flat <= -t)
            self.offgrid_counts[k] = self.offgrid_counts[k] + hits

    def _near(self, flat: Any, where: Any) -> None:
        idx = self.xp.flatnonzero(flat >= self.s.near_duplicate - self.delta)
        if idx.size:
            i, j = where(idx)
            self.near.append(Pairs(i, j, flat[idx]))

    def _top(self, flat: Any, where: Any) -> None:
        xp = self.xp
        k = self.s.top_pairs
        for descending in (True, False):
            current = self.top_pos if descending else self.top_neg
            if len(current) < k:
                if flat.shape[0] > k:
                    part = xp.argpartition(-flat if descending else flat, k - 1)[:k]
                else:
                    part = xp.arange(flat.shape[0])
                # ties with the k-th value must all be candidates (order by pair)
                kth = flat[part].min() if descending else flat[part].max()
            else:
                kth = current.r[-1]
            idx = xp.flatnonzero(flat >= kth if descending else flat <= kth)
            i, j = where(idx)
            merged = current.concat(Pairs(i, j, flat[idx]), xp)
            merged = ranked(merged, self.n, k, descending=descending, xp=xp)
            if descending:
                self.top_pos = merged
            else:
                self.top_neg = merged

    def _partners(self, r: Any, row0: int, col0: int) -> None:
        xp = self.xp
        rmax = r.max(axis=1)
        sel = xp.flatnonzero(rmax >= self.best_r[row0 : row0 + r.shape[0]])
        if sel.size:
            self._update(sel + row0, rmax[sel], r[sel].argmax(axis=1) + col0)
        cmax = r.max(axis=0)
        sel = xp.flatnonzero(cmax >= self.best_r[col0 : col0 + r.shape[1]])
        if sel.size:
            self._update(sel + col0, cmax[sel], r[:, sel].argmax(axis=0) + row0)

    def _update(self, who: Any, value: Any, partner: Any) -> None:
        value = value.astype(self.xp.float64)
        cur_r, cur_j = self.best_r[who], self.best_j[who]
        better = (value > cur_r) | ((value == cur_r) & (partner < cur_j))
        self.best_r[who[better]] = value[better]
        self.best_j[who[better]] = partner[better]


#: Shard sizes (pairs) from which the compiled kernel is the faster choice.
#: Loading numba and the cached kernel costs about 0.3 s of CPU in each
#: process; the kernel then saves about 5.5 ns a pair over the array path in
#: float64 and 2.5 ns in float32 (docs/correlation.md, measured on the twin).
COMPILED_FROM_PAIRS = {"float64": 50_000_000, "float32": 120_000_000}


def use_compiled(xp: ModuleType, dtype: str, pairs: int) -> bool:
    """Whether compute_shard(fused=None) takes the compiled kernel."""
    if xp is not np or os.environ.get("STRATOPT_NO_NUMBA"):
        return False
    if pairs < COMPILED_FROM_PAIRS[dtype]:
        return False
    if importlib.util.find_spec("numba") is None:
        log.warning("numba is not installed: correlation tiles take the NumPy array path")
        return False
    return True


def _reducer(
    xp: ModuleType, n: int, n_days: int, settings: CorrelationSettings, dtype: Any, fused: bool
) -> Any:
    """The compiled single-pass reducer (fused.py, NumPy only), else the array path."""
    if not fused:
        return _Reducer(xp, n, n_days, settings)
    if xp is not np:
        raise ValueError("the compiled correlation kernel needs the NumPy backend")
    from stratopt.correlation.fused import FusedReducer

    return FusedReducer(n, n_days, settings, dtype)


def compute_shard(
    matrix: Matrix,
    shard: int,
    settings: CorrelationSettings,
    xp: ModuleType = np,
    source: str = "<matrix>",
    fused: bool | None = None,
    threads: int = 1,
) -> ShardSummary:
    """Shard `shard` of settings.shards: its tiles, reduced (see module doc).

    fused: reduce each tile in one compiled pass (fused.py; NumPy only, the
    same results bit for bit); None decides by use_compiled(): NumPy, a
    shard large enough to repay loading numba, and STRATOPT_NO_NUMBA unset.
    threads: with the compiled pass, split the tiles over this many threads
    (one process and one numba load for the cores, where a shard job per core
    pays each); the same summary bit for bit.
    """
    start = time.perf_counter()
    if not 0 <= shard < settings.shards:
        raise ValueError(f"shard {shard} is not in 0..{settings.shards - 1}")
    values = matrix.values
    check_finite(values, source)
    n_days, n = values.shape
    tiles = plan_shards(n, settings.shards, settings.tile)[shard]
    constant = constant_columns(values)

    host_in = np.ascontiguousarray(values, dtype=np.float64)
    device_values = xp.asarray(host_in)  # the one transfer to the device
    z = normalised(device_values, constant, xp)
    if settings.dtype == "float32":
        z = z.astype(xp.float32)
    del device_values

    if fused is None:
        fused = use_compiled(xp, settings.dtype, sum(t.pairs for t in tiles))
    runs = ([run for run in split(tiles, max(1, threads)) if run] if fused else []) or [tiles]
    log.info(
        "shard %d/%d: %d tiles, %s tile reduction, %d thread(s)",
        shard,
        settings.shards,
        len(tiles),
        "compiled" if fused else "array",
        len(runs),
    )
    reducers = [_reducer(xp, n, n_days, settings, z.dtype, fused) for _ in runs]
    with one_blas_thread(xp):
        if len(runs) > 1:
            with ThreadPoolExecutor(len(runs)) as pool:
                list(pool.map(_reduce, reducers, [z] * len(runs), runs))
        else:
            _reduce(reducers[0], z, tiles)
    reducer = reducers[0]
    for later in reducers[1:]:
        reducer.absorb(later)
    summary = _finish(reducer, host_in, constant, settings, tiles)
    summary.meta.update(
        shard=shard,
        shards=settings.shards,
        n_strategies=n,
        n_days=n_days,
        backend=settings.backend,
        seconds=time.perf_counter() - start,
    )
    return summary


def one_blas_thread(xp: ModuleType) -> contextlib.AbstractContextManager[Any]:
    """The tile products on one BLAS thread (NumPy; CuPy: nothing to hold).

    Why: a multi-threaded BLAS splits a product into blocks by its thread count,
    and the edge blocks' kernels may round differently: on an AVX-512 host
    (OpenBLAS SkylakeX kernels) one tile's r moved in its last bit with
    OPENBLAS_NUM_THREADS, so `stratopt correlate` (every core) and a stage job
    (Snakemake sets the job's threads) disagreed, and so did 1 and 2
    `correlation.threads`. The shard's own threads are its parallelism (a BLAS
    pool per thread on top ran four threads on two cores: 10 s of CPU against 7 s).
    """
    if xp is not np:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=1, user_api="blas")


def _reduce(reducer: Any, z: Any, tiles: list[Tile]) -> None:
    """Each tile's product, reduced at once and dropped (at most one tile alive)."""
    for tile in tiles:
        r = z[:, tile.row0 : tile.row1].T @ z[:, tile.col0 : tile.col1]
        reducer.add(tile, r)
        del r
    if hasattr(reducer, "close"):
        reducer.close()


def _finish(
    red: _Reducer,
    host_values: np.ndarray,
    constant: np.ndarray,
    settings: CorrelationSettings,
    tiles: list[Tile],
) -> ShardSummary:
    """Bring the small results back (the one transfer home) and settle the specials."""
    n = red.n
    fine = np.asarray(to_numpy(red.fine), dtype=np.int64).copy()
    specials = _host_specials(red)
    np.subtract.at(fine, specials[3], 1)  # specials are counted exactly instead
    fine[red.cells - 1] += fine[red.cells :].sum()  # r rounded up to 1 belongs to the last cell
    fine = fine[: red.cells]
    judge = _Judge(ExactColumns(host_values), constant, red.delta, red.exact)

    hist = fine.reshape(settings.bins, settings.cells_per_bin).sum(axis=1)
    counts = np.zeros(len(settings.thresholds), dtype=np.int64)
    offgrid = iter(int(to_numpy(c)) for c in red.offgrid_counts)
    for k, t in enumerate(settings.thresholds):
        if on_grid(t, red.cells):
            q = round((t + 1.0) * red.half)
            qn = round((1.0 - t) * red.half)
            counts[k] = fine[q:].sum() + fine[:qn].sum()
        else:
            counts[k] = next(offgrid)
    interior = settings.edges[1:-1]
    for i, j, r in zip(*(a.tolist() for a in specials[:3]), strict=True):
        hist[judge.bin(i, j, r, interior)] += 1
        for k, t in enumerate(settings.thresholds):
            if on_grid(t, red.cells):
                counts[k] += judge.abs_at_least(i, j, r, t)

    near = _near_duplicates(red, judge, settings.near_duplicate)
    top_pos = red.top_pos.to_numpy()
    top_neg = red.top_neg.to_numpy()
    best_j = np.asarray(to_numpy(red.best_j))
    who = np.flatnonzero(best_j < n)
    partners = Pairs(who, best_j[who], np.asarray(to_numpy(red.best_r))[who])
    if not red.exact:  # report float64 values for what float32 tiles selected
        z = normalised(host_values, constant)
        for p in (top_pos, top_neg, partners, near):
            p.r = np.einsum("ti,ti->i", z[:, p.i], z[:, p.j]) if len(p) else p.r
        top_pos = ranked(top_pos, n, settings.top_pairs, descending=True)
        top_neg = ranked(top_neg, n, settings.top_pairs, descending=False)

    return ShardSummary(
        meta={
            "pairs": sum(t.pairs for t in tiles),
            "tiles": len(tiles),
            "specials": len(specials[0]),
            "settings": settings.to_dict(),
            "fine_cells": red.cells,
            "delta": red.delta,
        },
        hist=hist.astype(np.int64),
        threshold_counts=counts,
        near_duplicate_pairs=len(near),
        top_positive=top_pos,
        top_negative=top_neg,
        partners=partners,
        near_duplicate_forest=spanning_forest(near, n),
    )


def _host_specials(red: _Reducer) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    if not red.specials:
        return (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
    parts = [np.concatenate([np.asarray(to_numpy(s[k])) for s in red.specials]) for k in range(4)]
    return parts[0].astype(np.int64), parts[1].astype(np.int64), parts[2], parts[3].astype(np.int64)


class _Judge:
    """Decides on which side of a float edge a pair's r lies: by its float
    value when it is further than delta away, else exactly."""

    def __init__(
        self, exact: ExactColumns, constant: np.ndarray, delta: float, refine: bool
    ) -> None:
        self.exact = exact
        self.constant = constant
        self.delta = delta
        self.refine = refine

    def compare(self, i: int, j: int, r: float, edge: float) -> int:
        """sign(r_ij - edge)."""
        if r - edge >= self.delta:
            return 1
        if edge - r >= self.delta:
            return -1
        if self.constant[i] or self.constant[j]:
            return (edge < 0.0) - (edge > 0.0)
        if not self.refine:
            return (r > edge) - (r < edge)
        return self.exact.compare(i, j, edge)

    def bin(self, i: int, j: int, r: float, interior: np.ndarray) -> int:
        """numpy.histogram's bin: the number of interior edges at or below r."""
        lo = int(np.searchsorted(interior, r - self.delta, side="right"))
        hi = int(np.searchsorted(interior, r + self.delta, side="right"))
        return lo + sum(self.compare(i, j, r, float(e)) >= 0 for e in interior[lo:hi])

    def abs_at_least(self, i: int, j: int, r: float, t: float) -> int:
        if t == 0:
            return 1
        return int(self.compare(i, j, r, t) >= 0 or self.compare(i, j, r, -t) <= 0)


def _near_duplicates(red: _Reducer, judge: _Judge, threshold: float) -> Pairs:
    """The pairs with r >= threshold (collected with a margin of delta, then settled)."""
    if not red.near:
        return Pairs.empty()
    near = red.near[0]
    for more in red.near[1:]:
        near = near.concat(more, red.xp)
    near = near.to_numpy()
    sure = near.r >= threshold + judge.delta
    keep = sure.copy()
    for k in np.flatnonzero(~sure):
        keep[k] = judge.compare(int(near.i[k]), int(near.j[k]), float(near.r[k]), threshold) >= 0
    return near.take(keep)


def spanning_forest(pairs: Pairs, n: int) -> Pairs:
    """A maximum-r spanning forest: the same connected components with at most n - 1 edges."""
    if len(pairs) == 0:
        return pairs
    from stratopt.correlation.forest import spanning_forest as kruskal

    return pairs.take(kruskal(pairs.i, pairs.j, pairs.r, n))
