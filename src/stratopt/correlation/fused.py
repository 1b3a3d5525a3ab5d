"""One compiled pass per tile (numba): every shard statistic from a single read of r.

Why: the array path (shard._Reducer) makes about ten NumPy passes over each
tile (affine map, cast, bincount, fractional parts, two compares for the top
lists, one for the near duplicates, row and column maxima) and each pass
re-reads 2 MB and allocates its temporaries; over 326 million pairs that cost
more than the matrix products themselves. Here the product stays in BLAS and
one kernel walks each tile row once: a vectorisable loop computes the codes,
the specials test, the column maxima and whether anything rare is in the
row; a second loop adds the codes to the histogram; only rows with something
rare (a possible top pair, near duplicate, better partner or special) are
read again, element by element.

The arithmetic is that of the array path, in the same dtype and order
(u = r * F/2 + (F/2 + eps), code = floor(u), thresholds rounded to the tile's
dtype as NumPy rounds a Python float against a float32 array), and every
selection follows the same total order (r, then the pair), so the summaries
are bit for bit those of the array path (tested); the array path stays for
CuPy. Threads: a shard job with several threads gives each a contiguous run of
its tiles and its own reducer (the products and the kernel release the GIL),
then folds the later reducers into the first (FusedReducer.absorb): the same
summary bit for bit as one thread.
"""

from __future__ import annotations

from typing import Any

import numba as nb
import numpy as np

from stratopt.correlation.pairs import Pairs, ranked
from stratopt.correlation.plan import Tile
from stratopt.correlation.settings import CorrelationSettings, Grid
from stratopt.engine.numba_setup import skip_blas_check

skip_blas_check()  # numba without its scipy BLAS check (engine/numba_setup.py)

# counters in `fill`
NEAR, SPECIAL, TOP_POS, TOP_NEG = 0, 1, 2, 3


@nb.njit(cache=True, nogil=True)
def _compact(ti, tj, ts, count, k, n):  # noqa: ANN001, ANN202 - numba kernel
    """Keep the k best candidates (score descending, then pair key): the new threshold."""
    keys = ti[:count] * n + tj[:count]
    by_key = np.argsort(keys, kind="mergesort")
    by_score = np.argsort(-ts[:count][by_key], kind="mergesort")  # stable: ties stay by key
    keep = by_key[by_score[:k]]
    new_i, new_j, new_s = ti[keep], tj[keep], ts[keep]
    ti[:k] = new_i
    tj[:k] = new_j
    ts[:k] = new_s
    return ts[k - 1]


@nb.njit(cache=True, nogil=True, inline="always")
def _push_top(side, i, j, score, top_i, top_j, top_s, fill, thr, k, n):  # noqa: ANN001, ANN202
    """Add a candidate to the top list `side` (0: by r, 1: by -r); compact when full."""
    slot = fill[TOP_POS + side]
    top_i[side, slot] = i
    top_j[side, slot] = j
    top_s[side, slot] = score
    slot += 1
    if slot == top_i.shape[1]:
        thr[side] = _compact(top_i[side], top_j[side], top_s[side], slot, k, n)
        slot = k
    fill[TOP_POS + side] = slot


@nb.njit(cache=True, nogil=True)
def _scan_row(row, codes, col_v, col_w, i, half, shift, two_eps, hi, lo, top_code, fine):  # noqa: ANN001, ANN202, PLR0913
    """The hot loop over one tile row (from index 0, so that LLVM vectorises it):
    codes, specials test, rare-value test, column maxima; then the histogram."""
    hit = 0
    nspec = 0
    for b in range(row.shape[0]):
        v = row[b]
        u = v * half + shift
        c = min(int(u), top_code)
        codes[b] = c
        nspec += (u - c) < two_eps
        hit |= (v >= hi) | (v <= lo)
        cv = col_v[b]
        better = v > cv
        col_v[b] = v if better else cv
        col_w[b] = i if better else col_w[b]
    for b in range(row.shape[0]):
        fine[codes[b]] += 1
    return hit, nspec


@nb.njit(cache=True, nogil=True)
def reduce_tile(  # noqa: ANN201, PLR0912, PLR0913, PLR0915 - one fused numba kernel
    r,  # (rows, width) tile, float64 or float32
    row0,
    col0,
    diagonal,
    start,  # first row to do (a previous call stopped there for lack of buffer space)
    scale,  # [F/2, F/2 + eps] in the tile's dtype
    two_eps,  # specials: fractional part below this (-1.0: no specials, float32)
    boundaries,  # [lowest, highest] code of a boundary whose neighbours are specials
    near_cut,  # 1-element array in the tile's dtype: r >= near_duplicate - delta
    offgrid,  # (2, m) in the tile's dtype: r >= t and r <= -t (t > 0 only, else NaN)
    offgrid_counts,
    fine,  # int64 (F + 2,) histogram of codes
    codes,  # int64 scratch, >= width
    col_v,  # per tile: each column's best r so far and its first row
    col_w,
    best_r,  # per strategy: best partner's r and index
    best_j,
    near_i,
    near_j,
    near_r,
    spec_i,
    spec_j,
    spec_r,
    spec_code,
    top_i,  # (2, capacity) candidates: side 0 scores r, side 1 scores -r
    top_j,
    top_s,
    thr,  # (2,) collect a candidate when its score >= thr[side]
    fill,  # int64 counters: NEAR, SPECIAL, TOP_POS, TOP_NEG
    k,
    n,
):
    """Reduce rows start.. of the tile; -1 when done, else the row where buffers ran out."""
    rows, width = r.shape
    half = scale[0]
    shift = scale[1]
    cut = near_cut[0]
    top_code = fine.shape[0] - 1
    lo_b = boundaries[0]
    hi_b = boundaries[1]
    if start == 0:
        for b in range(width):
            col_v[b] = -3.0
            col_w[b] = -1
    for a in range(start, rows):
        b0 = a + 1 if diagonal else 0
        if b0 >= width:
            continue
        free = width - b0
        if near_i.shape[0] - fill[NEAR] < free or spec_i.shape[0] - fill[SPECIAL] < free:
            return a
        i = row0 + a
        # anything at or above `hi` may be a better partner, a near duplicate or a top pair
        hi = min(best_r[i], np.float64(cut), thr[0])
        lo = -thr[1]
        hit, nspec = _scan_row(
            r[a, b0:],
            codes[b0:width],
            col_v[b0:width],
            col_w[b0:width],
            i,
            half,
            shift,
            two_eps,
            hi,
            lo,
            top_code,
            fine,
        )
        if nspec:
            for b in range(b0, width):
                v = r[a, b]
                u = v * half + shift
                c = int(u)
                if (u - c) < two_eps and lo_b <= c <= hi_b:
                    s = fill[SPECIAL]
                    spec_i[s] = i
                    spec_j[s] = col0 + b
                    spec_r[s] = v
                    spec_code[s] = c
                    fill[SPECIAL] = s + 1
        if hit:
            for b in range(b0, width):
                v = r[a, b]
                vd = np.float64(v)
                j = col0 + b
                if vd >= best_r[i] and (vd > best_r[i] or j < best_j[i]):
                    best_r[i] = vd
                    best_j[i] = j
                if v >= cut:
                    s = fill[NEAR]
                    near_i[s] = i
                    near_j[s] = j
                    near_r[s] = vd
                    fill[NEAR] = s + 1
                if vd >= thr[0]:
                    _push_top(0, i, j, vd, top_i, top_j, top_s, fill, thr, k, n)
                if -vd >= thr[1]:
                    _push_top(1, i, j, -vd, top_i, top_j, top_s, fill, thr, k, n)
        for q in range(offgrid.shape[1]):
            t_hi = offgrid[0, q]
            t_lo = offgrid[1, q]
            count = 0
            for b in range(b0, width):
                v = r[a, b]
                count += (v >= t_hi) + (v <= t_lo)  # a NaN t_lo never compares true
            offgrid_counts[q] += count
    for b in range(width):
        w = col_w[b]
        if w >= 0:
            j = col0 + b
            vd = np.float64(col_v[b])
            if vd > best_r[j] or (vd == best_r[j] and w < best_j[j]):
                best_r[j] = vd
                best_j[j] = w
    return -1


def _grown(a: np.ndarray, need: int) -> np.ndarray:
    out = np.empty(max(2 * a.shape[0], need), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


class FusedReducer:
    """Running statistics of one shard's tiles on the CPU; the same attributes
    as shard._Reducer once `close()` has run, so shard._finish reads either."""

    def __init__(self, n: int, n_days: int, settings: CorrelationSettings, dtype: Any) -> None:
        grid = Grid.of(settings, n_days)
        self.xp = np
        self.n = n
        self.s = settings
        self.dtype = np.dtype(dtype)
        self.cells, self.half, self.exact = grid.cells, grid.half, grid.exact
        self.delta, self.eps = grid.delta, grid.eps
        self.offgrid = list(grid.offgrid)
        self.fine = np.zeros(self.cells + 2, dtype=np.int64)
        self.best_r = np.full(n, -2.0, dtype=np.float64)
        self.best_j = np.full(n, n, dtype=np.int64)
        # NumPy rounds a Python float to float32 when comparing it with a float32 array
        t = self.dtype.type
        self._scale = np.array([self.half, self.half + self.eps], dtype=self.dtype)
        self._two_eps = 2.0 * self.eps if self.exact else -1.0
        self._bounds = np.array([grid.lowest_boundary, grid.highest_boundary], dtype=np.int64)
        self._cut = np.array([settings.near_duplicate - self.delta], dtype=self.dtype)
        self._offgrid = np.array(
            [[t(x) for x in self.offgrid], [t(-x) if x > 0 else np.nan for x in self.offgrid]],
            dtype=self.dtype,
        ).reshape(2, len(self.offgrid))
        self._offgrid_counts = np.zeros(len(self.offgrid), dtype=np.int64)
        width = max(settings.tile, 1)
        self._codes = np.empty(width, dtype=np.int64)
        self._col_v = np.empty(width, dtype=self.dtype)
        self._col_w = np.empty(width, dtype=np.int64)
        room = max(8192, 2 * width)
        self._near = (np.empty(room, np.int64), np.empty(room, np.int64), np.empty(room))
        self._spec = (
            np.empty(room, np.int64),
            np.empty(room, np.int64),
            np.empty(room),
            np.empty(room, np.int64),
        )
        self.k = settings.top_pairs
        capacity = max(4 * self.k, 1024)
        self._top_i = np.empty((2, capacity), dtype=np.int64)
        self._top_j = np.empty((2, capacity), dtype=np.int64)
        self._top_s = np.empty((2, capacity), dtype=np.float64)
        self._thr = np.full(2, -np.inf)
        self._fill = np.zeros(4, dtype=np.int64)

    def add(self, tile: Tile, r: np.ndarray) -> None:
        r = np.ascontiguousarray(r)
        width = r.shape[1]
        if self._codes.shape[0] < width:
            self._codes = np.empty(width, dtype=np.int64)
            self._col_v = np.empty(width, dtype=self.dtype)
            self._col_w = np.empty(width, dtype=np.int64)
        start = 0
        while True:
            start = reduce_tile(
                r,
                tile.row0,
                tile.col0,
                tile.diagonal,
                start,
                self._scale,
                self._two_eps,
                self._bounds,
                self._cut,
                self._offgrid,
                self._offgrid_counts,
                self.fine,
                self._codes,
                self._col_v,
                self._col_w,
                self.best_r,
                self.best_j,
                *self._near,
                *self._spec,
                self._top_i,
                self._top_j,
                self._top_s,
                self._thr,
                self._fill,
                self.k,
                self.n,
            )
            if start < 0:
                return
            near, spec = int(self._fill[NEAR]) + width, int(self._fill[SPECIAL]) + width
            self._near = (
                _grown(self._near[0], near),
                _grown(self._near[1], near),
                _grown(self._near[2], near),
            )
            self._spec = (
                _grown(self._spec[0], spec),
                _grown(self._spec[1], spec),
                _grown(self._spec[2], spec),
                _grown(self._spec[3], spec),
            )

    def close(self) -> None:
        """Expose the results under shard._Reducer's names."""
        near, spec = int(self._fill[NEAR]), int(self._fill[SPECIAL])
        self.near = [Pairs(*(a[:near].copy() for a in self._near))] if near else []
        self.specials = [tuple(a[:spec].copy() for a in self._spec)] if spec else []
        self.offgrid_counts = [int(c) for c in self._offgrid_counts]
        self.top_pos = self._top(0, descending=True)
        self.top_neg = self._top(1, descending=False)

    def absorb(self, later: FusedReducer) -> None:
        """Take in a closed reducer of the tiles that follow this one's (another thread's):
        the state one reducer would hold after both runs of tiles, bit for bit. Counts
        add, the pair lists follow in tile order, the top lists and best partners are
        re-ranked by the same total order (r, then the pair)."""
        self.fine += later.fine
        self.offgrid_counts = [
            a + b for a, b in zip(self.offgrid_counts, later.offgrid_counts, strict=True)
        ]
        self.near = self.near + later.near
        self.specials = self.specials + later.specials
        self.top_pos = ranked(self.top_pos.concat(later.top_pos), self.n, self.k, descending=True)
        self.top_neg = ranked(self.top_neg.concat(later.top_neg), self.n, self.k, descending=False)
        better = (later.best_r > self.best_r) | (
            (later.best_r == self.best_r) & (later.best_j < self.best_j)
        )
        self.best_r = np.where(better, later.best_r, self.best_r)
        self.best_j = np.where(better, later.best_j, self.best_j)

    def _top(self, side: int, *, descending: bool) -> Pairs:
        m = int(self._fill[TOP_POS + side])
        score = self._top_s[side, :m].copy()
        r = score if descending else -score
        candidates = Pairs(self._top_i[side, :m].copy(), self._top_j[side, :m].copy(), r)
        return ranked(candidates, self.n, self.k, descending=descending)
