"""The tuned fitness engine every search algorithm calls.

Same numbers as stratopt.engine.reference, computed differently:
- the strategies are stored once as rows of W = [r_i | z_i] (N x 2T): the
  daily P&L and the normalised column (stratopt.engine.normalise), so that one row
  gather per chosen strategy yields both the portfolio sum and the sum of the
  normalised columns (the kernels make z from r as they read it, from each
  column's mean and scale: stratopt.engine.rows);
- the mean pairwise correlation of a set S of n strategies is
  (|sum z_i|^2 - sum |z_i|^2) / (n (n - 1)), O(nT) instead of the legacy's
  O(n^2) loop over a dense N x N matrix, which is never built;
- populations are evaluated as one batch of P rows;
- a Swapper keeps the running sums of one set, so the fitness after replacing
  one member costs O(T) (two row reads and one T-long metric).

Written once against an array module `xp` (NumPy or CuPy); results come back
to the host as NumPy float64. With NumPy and numba installed, the two hot
loops (population statistics, swap statistics) run as compiled kernels
(stratopt.engine.kernels) doing the same arithmetic in the same order; the array
path stays the reference implementation for CuPy and for `compiled=False`.
"""

from __future__ import annotations

import copy
import logging
import math
from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy

from stratopt.data.zones import ZoneData
from stratopt.engine.backend import get_xp, to_numpy
from stratopt.engine.kernel_choice import Compiled, load_kernels
from stratopt.engine.kernel_score import kernel_score
from stratopt.engine.objectives import (
    SCALAR,
    STAT_KEYS,
    get_metric,
    metric_key,
    series_stats,
    uses_drawdown_threshold,
)
from stratopt.engine.protocol import Indices
from stratopt.engine.reference import CORRELATION_PENALTY, ZONE_CORRELATION_PENALTY, desired_count
from stratopt.engine.rows import Rows

np = numpy
log = logging.getLogger(__name__)
#: Rows per batch chunk: bounds the temporary (chunk x 2T) arrays.
CHUNK_ROWS = 4096
#: A Swapper recomputes its running sums from scratch after this many accepted swaps,
#: so that rounding never accumulates along long swap chains.
REFRESH_EVERY = 64


class Evaluator:
    """Fitness of equal-weight portfolios (sets of strategy indices) over one matrix.

    values: (T, N) float64 P&L. In zone mode (`zones` given) the series are
    zones.collapsed() and `values` may be None. `labels` (one source-file
    name per strategy) are needed for balanced mode; the desired count per
    file is n / number of files. `zone_correlation=True` uses the Pearson
    correlation of the collapsed zone series for the zone-mode penalty; the
    legacy default (False) uses the identity, i.e. no penalty. `compiled`:
    None uses the numba kernels where they apply, False never, True insists.
    `drawdown_floor` (rupees) is the guarded ratio's fixed floor; None keeps
    its default, the portfolio's own session-P&L standard deviation.
    """

    def __init__(
        self,
        values: Any,
        *,
        metric: str = "ratio",
        drawdown_threshold: float = 0.0,
        drawdown_floor: float | None = None,
        xp: ModuleType | str = numpy,
        labels: Sequence[str] | None = None,
        balanced: bool = False,
        penalty_factor: float = 1.0,
        zones: ZoneData | None = None,
        zone_correlation: bool = False,
        compiled: Compiled = None,
    ) -> None:
        self.xp = get_xp(xp) if isinstance(xp, str) else xp
        self.zone_mode = zones is not None
        if zones is not None:
            host = zones.collapsed()
            if values is not None and numpy.shape(values)[1] != host.shape[1]:
                raise ValueError(
                    f"values have {numpy.shape(values)[1]} strategies, zones {host.shape[1]}"
                )
        else:
            host = numpy.asarray(to_numpy(values), dtype=numpy.float64)
        if host.ndim != 2:
            raise ValueError(f"values must be a (T, N) array, got shape {host.shape}")
        t, n = host.shape
        self.n_days = t
        self.n_strategies = n
        self._metric_fn = get_metric(metric, drawdown_floor)
        self.metric = metric_key(metric)
        self._dd_rule = uses_drawdown_threshold(self._metric_fn)
        self._kernels = load_kernels(self.xp, self._metric_fn, compiled)
        self.compiled = self._kernels is not None
        #: large batches may use numba's thread pool; False where the caller's own
        #: workers (the optimize stage's) are the parallelism
        self.parallel = True
        self.drawdown_threshold = float(drawdown_threshold)
        self.penalty_factor = float(penalty_factor)
        self.balanced = bool(balanced)
        self.evaluations = 0

        if self.zone_mode:
            self._penalty_scale = 0.0 if self.metric == "ratio" else ZONE_CORRELATION_PENALTY
            self._clip_negative = True
            self._use_corr = zone_correlation and self._penalty_scale > 0
        else:
            self._penalty_scale = CORRELATION_PENALTY
            self._clip_negative = False
            self._use_corr = True

        # W = [r | z] per strategy row: whole for the array path, compact for the kernels
        self._rows = Rows(host, use_corr=self._use_corr, xp=self.xp, compact=self.compiled)
        del host

        self._codes_host: numpy.ndarray | None = None
        self._n_labels = 0
        if self.balanced:
            if labels is None or len(labels) != n:
                raise ValueError("balanced mode needs one label per strategy")
            names, codes = numpy.unique(
                numpy.asarray(list(labels), dtype=object), return_inverse=True
            )
            self._codes_host = codes.astype(numpy.int64)
            self._codes = self.xp.asarray(self._codes_host)
            self._n_labels = len(names)
        #: the scoring parameters where the kernels score too (small batches: one call)
        self._fused = kernel_score(self)
        if self._fused is not None and not hasattr(self._kernels, "population_fitness"):
            self._fused = None

    # ------------------------------------------------------------ internals

    def _gather_sum(self, sets: Any) -> Any:
        """(P, 2T): per row, the sum of W over the row's strategies."""
        take = self._rows.take
        if self.xp is numpy:
            # Accumulate one position at a time: the (P, 2T) accumulator stays
            # in cache instead of materialising a (P, n, 2T) gather.
            acc = take(sets[:, 0])
            for j in range(1, sets.shape[1]):
                acc += take(sets[:, j])
            return acc
        return self._rows.w[sets].sum(axis=1)

    def _counts(self, sets: Any) -> Any:
        """(P, K): how many strategies of each source file every row holds."""
        xp = self.xp
        p = sets.shape[0]
        k = self._n_labels
        flat = self._codes[sets] + (xp.arange(p, dtype=xp.int64) * k)[:, None]
        return xp.bincount(flat.ravel(), minlength=p * k).reshape(p, k)

    def _stats_of_sums(self, acc: Any, sumsq: Any, n: int) -> tuple[dict, Any]:
        """Array path: statistics (and the (T, P) series) from the (P, 2T) row sums."""
        xp = self.xp
        t = self.n_days
        series = xp.ascontiguousarray((acc[:, :t] / n).T)
        stats = series_stats(series, xp)
        zsum = acc[:, t:]
        stats["zz"] = (zsum * zsum).sum(axis=1)
        stats["sumsq"] = sumsq
        return stats, series

    def _stats_of_array(self, out: numpy.ndarray) -> dict:
        """Kernel path: the (P, 9) statistics array as the dict of stratopt.engine.objectives."""
        stats = {key: out[:, i] for i, key in enumerate(STAT_KEYS)}
        stats["zz"] = out[:, 6]
        stats["sumsq"] = out[:, 7]
        stats["sq"] = out[:, 8]
        stats["n_days"] = self.n_days
        return stats

    def _score(self, stats: dict, counts: Any, n: int, series: Any = None, xp: Any = None) -> Any:
        """Fitness of P portfolios from their statistics: base - penalties, shape (P,).

        With xp=fitness.SCALAR the statistics are floats and so is the result.
        """
        scalar = xp is SCALAR
        xp = xp or self.xp
        fn = self._metric_fn
        from_stats = getattr(fn, "from_stats", None)
        base = from_stats(stats, xp) if from_stats is not None else fn(series, xp)
        if self._use_corr and n >= 2:
            mean_r = (stats["zz"] - stats["sumsq"]) / float(n * (n - 1))
            if self._clip_negative:
                mean_r = xp.maximum(mean_r, 0.0)
            penalty = self._penalty_scale * mean_r
            if self._dd_rule and self.drawdown_threshold > 0:
                under = stats["max_dd"] < self.drawdown_threshold
                penalty = xp.where(under, penalty * 0.5, penalty)
            base = base - penalty
        if self.balanced:
            want = desired_count(n, self._n_labels)
            off = abs(counts - want).sum(axis=1)  # numpy or cupy counts, (P,)
            base = base - self.penalty_factor * (float(off[0]) if scalar else off)
        # A non-finite fitness (overflowing data) can never win: NaN compares false
        # with everything, so a search that met it first would keep it as its best.
        if scalar:
            return base if math.isfinite(base) else -math.inf
        finite = xp.isfinite(base)
        if xp is numpy and finite.all():
            return base  # the usual case: no copy
        return xp.where(finite, base, -xp.inf)

    def _evaluate_chunk(self, chunk: numpy.ndarray, n: int) -> numpy.ndarray:
        xp = self.xp
        counts = self._counts(xp.asarray(chunk)) if self.balanced else None
        if self._kernels is not None:
            if self._fused is not None and not (  # statistics and score in one call
                self.parallel and len(chunk) >= self._kernels.PARALLEL_ROWS
            ):
                fit = numpy.empty(len(chunk))
                self._kernels.population_fitness(self._rows, chunk, self._fused, fit)
                return fit
            out = numpy.empty((len(chunk), self._kernels.N_STATS))
            self._kernels.population_stats(self._rows, chunk, out, parallel=self.parallel)
            return self._score(self._stats_of_array(out), counts, n)
        rows = xp.asarray(chunk)
        acc = self._gather_sum(rows)
        sumsq = self._rows.sq[rows].sum(axis=1)
        stats, series = self._stats_of_sums(acc, sumsq, n)
        return to_numpy(self._score(stats, counts, n, series))

    def _check_sets(self, sets: Any) -> numpy.ndarray:
        arr = numpy.asarray(to_numpy(sets))
        if arr.ndim != 2 or not numpy.issubdtype(arr.dtype, numpy.integer):
            raise ValueError(f"sets must be a (P, n) integer array, got {arr.dtype} {arr.shape}")
        if arr.size and (arr.min() < 0 or arr.max() >= self.n_strategies):
            raise IndexError(f"strategy index out of range 0..{self.n_strategies - 1}")
        return arr.astype(numpy.int64, copy=False)

    # ------------------------------------------------------------ API

    def evaluate(self, sets: Any) -> numpy.ndarray:
        """Fitness of every row of `sets` ((P, n) distinct indices per row), as (P,) float64."""
        arr = self._check_sets(sets)
        p, n = arr.shape
        out = numpy.empty(p, dtype=numpy.float64)
        if n == 0:
            raise ValueError("a portfolio needs at least one strategy")
        for start in range(0, p, CHUNK_ROWS):
            chunk = numpy.ascontiguousarray(arr[start : start + CHUNK_ROWS])
            out[start : start + len(chunk)] = self._evaluate_chunk(chunk, n)
        self.evaluations += p
        return out

    def statistics(self, sets: Any) -> dict[str, numpy.ndarray]:
        """Per row of `sets`: the portfolio series' statistics, without metric or penalty.

        Keys: STAT_KEYS and "sq" (sum of squares), each a (P,) float64 array,
        and "n_days". The validation stage scores random portfolios on test
        sessions with it: one batched pass, the numbers of `evaluate`.
        """
        arr = self._check_sets(sets)
        p, n = arr.shape
        if n == 0:
            raise ValueError("a portfolio needs at least one strategy")
        keys = (*STAT_KEYS, "sq")
        out = {key: numpy.empty(p, dtype=numpy.float64) for key in keys}
        for start in range(0, p, CHUNK_ROWS):
            chunk = numpy.ascontiguousarray(arr[start : start + CHUNK_ROWS])
            if self._kernels is not None:
                raw = numpy.empty((len(chunk), self._kernels.N_STATS))
                self._kernels.population_stats(self._rows, chunk, raw, parallel=self.parallel)
                stats = self._stats_of_array(raw)
            else:
                rows = self.xp.asarray(chunk)
                stats, _ = self._stats_of_sums(
                    self._gather_sum(rows), self._rows.sq[rows].sum(axis=1), n
                )
            for key in keys:
                out[key][start : start + len(chunk)] = to_numpy(stats[key])
        self.evaluations += p
        return {**out, "n_days": self.n_days}

    def evaluate_one(self, indices: Indices) -> float:
        return float(self.evaluate(numpy.asarray(indices, dtype=numpy.int64)[None, :])[0])

    def series(self, indices: Indices) -> numpy.ndarray:
        """The equal-weight portfolio series (T,), as the evaluator computes it."""
        arr = self._check_sets(numpy.asarray(indices, dtype=numpy.int64)[None, :])
        acc = self._gather_sum(self.xp.asarray(arr))
        return numpy.asarray(to_numpy(acc[0, : self.n_days] / arr.shape[1]), dtype=numpy.float64)

    def swapper(self, indices: Indices) -> Swapper:
        return Swapper(self, indices)

    def view(self) -> Evaluator:
        """An evaluator over the same (read-only) arrays with its own evaluation count.

        For threads: each search counts its own evaluations, while the
        N x 2T matrix W is held once per process, not once per thread.
        """
        twin = copy.copy(self)
        twin.evaluations = 0
        return twin


class Swapper:
    """One portfolio under single-swap moves: propose in O(T), accept to apply.

    It keeps the row sum of W over the set (the portfolio sum and the sum of
    normalised columns), sum |z_i|^2 and the per-file counts; a proposal
    changes them by one row out and one row in. The sums are recomputed from
    scratch every REFRESH_EVERY accepted swaps so rounding never accumulates.
    """

    def __init__(self, evaluator: Evaluator, indices: Indices) -> None:
        ev = evaluator
        idx = numpy.array(indices, dtype=numpy.int64).ravel()
        if len(idx) == 0:
            raise ValueError("a portfolio needs at least one strategy")
        if idx.min() < 0 or idx.max() >= ev.n_strategies:
            raise IndexError(f"strategy index out of range 0..{ev.n_strategies - 1}")
        if len(numpy.unique(idx)) != len(idx):
            raise ValueError("portfolio indices must be distinct")
        self._ev = ev
        self.indices = idx
        self._member = numpy.zeros(ev.n_strategies, dtype=bool)
        self._member[idx] = True
        self._accepted = 0
        self._last: tuple[int, int, float] | None = None
        self._one_old = numpy.zeros(1, dtype=numpy.int64)
        self._one_new = numpy.zeros(1, dtype=numpy.int64)
        self._one_out = numpy.zeros((1, 9))
        self._stat_names = (*STAT_KEYS, "zz", "sumsq", "sq")
        self._refresh()

    def _refresh(self) -> None:
        """Running sums recomputed from scratch (exact for the current set)."""
        ev = self._ev
        if ev._kernels is not None:  # the compact rows: one call, not a take per member
            self._acc = ev._kernels.set_sum(ev._rows, self.indices)
        else:
            self._acc = ev._gather_sum(ev.xp.asarray(self.indices[None, :]))[0]
        self._sumsq = float(ev._rows.sq_host[self.indices].sum())
        self._counts = (
            numpy.bincount(self._codes()[self.indices], minlength=ev._n_labels)
            if ev.balanced
            else None
        )
        # The set itself is the swap of its first member with itself.
        first = self.indices[:1].copy()
        self.fitness = float(self._score_swaps(first, first)[0])
        self._last = None

    def _codes(self) -> numpy.ndarray:
        """Each strategy's file code (balanced mode only: the per-file counts)."""
        codes = self._ev._codes_host
        if codes is None:
            raise RuntimeError("per-file counts exist in balanced mode only")
        return codes

    def _counts_rows(self, old: numpy.ndarray, new: numpy.ndarray) -> Any:
        """(K, files) counts after each swap old[q] -> new[q], or None outside balanced mode."""
        ev = self._ev
        if self._counts is None:
            return None
        codes = self._codes()
        c = numpy.tile(self._counts, (len(new), 1))
        rows = numpy.arange(len(new))
        numpy.subtract.at(c, (rows, codes[old]), 1)
        numpy.add.at(c, (rows, codes[new]), 1)
        return ev.xp.asarray(c)

    def _score_swaps(self, old: numpy.ndarray, new: numpy.ndarray) -> numpy.ndarray:
        """Fitness of the set with old[q] replaced by new[q], for every q, as (K,) float64."""
        ev = self._ev
        n = len(self.indices)
        counts = self._counts_rows(old, new)
        if ev._kernels is not None:
            out = numpy.empty((len(new), ev._kernels.N_STATS))
            ev._kernels.swap_stats(self._acc, ev._rows, old, new, n, self._sumsq, out)
            score = ev._score(ev._stats_of_array(out), counts, n)
        else:
            xp = ev.xp
            acc = self._acc[None, :] + ev._rows.take(xp.asarray(new))
            acc -= ev._rows.take(xp.asarray(old))
            sq = ev._rows.sq_host
            sumsq = xp.asarray((self._sumsq - sq[old]) + sq[new])
            stats, series = ev._stats_of_sums(acc, sumsq, n)
            score = ev._score(stats, counts, n, series)
        return numpy.asarray(to_numpy(score), dtype=numpy.float64)

    def _check(self, pos: int, new_index: int) -> tuple[int, int]:
        pos = int(pos)
        new = int(new_index)
        if not 0 <= pos < len(self.indices):
            raise IndexError(f"position {pos} out of range 0..{len(self.indices) - 1}")
        if not 0 <= new < self._ev.n_strategies:
            raise IndexError(f"strategy index {new} out of range")
        if self._member[new] and self.indices[pos] != new:
            raise ValueError(f"strategy {new} is already in the portfolio")
        return pos, new

    def propose(self, pos: int, new_index: int) -> float:
        """Fitness if position `pos` held `new_index` instead; the state does not change."""
        pos, new = self._check(pos, new_index)
        ev = self._ev
        if ev._kernels is not None:  # one kernel call, then float arithmetic: no temporaries
            self._one_old[0] = self.indices[pos]
            self._one_new[0] = new
            out = self._one_out
            ev._kernels.swap_stats(
                self._acc,
                ev._rows,
                self._one_old,
                self._one_new,
                len(self.indices),
                self._sumsq,
                out,
            )
            stats = dict(zip(self._stat_names, out[0].tolist(), strict=True))
            stats["n_days"] = ev.n_days
            counts = self._counts_rows(self._one_old, self._one_new)
            value = float(ev._score(stats, counts, len(self.indices), xp=SCALAR))
        else:
            old = self.indices[pos : pos + 1]
            value = float(self._score_swaps(old, numpy.array([new], dtype=numpy.int64))[0])
        ev.evaluations += 1
        self._last = (pos, new, value)
        return value

    def propose_many(self, positions: Indices, new_indices: Indices) -> numpy.ndarray:
        """Fitness of K independent single swaps from the current state, as one batch (K,)."""
        ev = self._ev
        pos = numpy.asarray(positions, dtype=numpy.int64).ravel()
        new = numpy.ascontiguousarray(numpy.asarray(new_indices, dtype=numpy.int64).ravel())
        if pos.shape != new.shape:
            raise ValueError("positions and new_indices differ in length")
        if len(pos) == 0:
            return numpy.empty(0)
        if pos.min() < 0 or pos.max() >= len(self.indices):
            raise IndexError("position out of range")
        if new.min() < 0 or new.max() >= ev.n_strategies:
            raise IndexError("strategy index out of range")
        old = self.indices[pos]
        if numpy.any(self._member[new] & (new != old)):
            raise ValueError("a proposed strategy is already in the portfolio")
        out = self._score_swaps(old, new)
        ev.evaluations += len(pos)
        return out

    def accept(self, pos: int, new_index: int) -> None:
        """Apply the swap; the fitness becomes that of the new set."""
        pos, new = self._check(pos, new_index)
        ev = self._ev
        old = int(self.indices[pos])
        if self._last is not None and self._last[:2] == (pos, new):
            value = self._last[2]
        else:
            value = float(
                self._score_swaps(numpy.array([old]), numpy.array([new], dtype=numpy.int64))[0]
            )
        if ev._kernels is not None:
            ev._kernels.swap_into(self._acc, ev._rows, old, new)
        else:
            pair = ev._rows.take(ev.xp.asarray([new, old]))
            acc = self._acc + pair[0]
            acc -= pair[1]
            self._acc = acc
        sq = ev._rows.sq_host
        self._sumsq = (self._sumsq - float(sq[old])) + float(sq[new])
        if self._counts is not None:
            codes = self._codes()
            self._counts[codes[old]] -= 1
            self._counts[codes[new]] += 1
        self._member[old] = False
        self._member[new] = True
        self.indices[pos] = new
        self.fitness = value
        self._last = None
        self._accepted += 1
        if self._accepted % REFRESH_EVERY == 0:
            self._refresh()
