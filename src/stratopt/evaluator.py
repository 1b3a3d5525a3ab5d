"""The tuned fitness engine every search algorithm calls.

Same numbers as stratopt.reference, computed differently:
- the strategies are stored once as rows of W = [r_i | z_i] (N x 2T): the
  daily P&L and the normalised column (stratopt.normalise), so that one row
  gather per chosen strategy yields both the portfolio sum and the sum of the
  normalised columns;
- the mean pairwise correlation of a set S of n strategies is
  (|sum z_i|^2 - sum |z_i|^2) / (n (n - 1)), O(nT) instead of the legacy's
  O(n^2) loop over a dense N x N matrix, which is never built;
- populations are evaluated as one batch of P rows;
- a Swapper keeps the running sums of one set, so the fitness after replacing
  one member costs O(T) (two row reads and one T-long metric).

Written once against an array module `xp` (NumPy or CuPy); results come back
to the host as NumPy float64.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType
from typing import Any

import numpy

from stratopt.backend import get_xp, to_numpy
from stratopt.fitness import get_metric, max_drawdown, metric_key, uses_drawdown_threshold
from stratopt.normalise import normalise_columns
from stratopt.reference import CORRELATION_PENALTY, ZONE_CORRELATION_PENALTY, desired_count
from stratopt.zones import ZoneData

np = numpy
#: Rows per batch chunk: bounds the temporary (chunk x 2T) arrays.
CHUNK_ROWS = 4096
#: A Swapper recomputes its running sums from scratch after this many accepted swaps,
#: so that rounding never accumulates along long swap chains.
REFRESH_EVERY = 64


def constant_columns(values: numpy.ndarray) -> numpy.ndarray:
    """Columns whose values are all equal (their correlations are undefined -> 0)."""
    if values.shape[0] == 0:
        return numpy.ones(values.shape[1], dtype=bool)
    return (values.max(axis=0) - values.min(axis=0)) == 0


class Evaluator:
    """Fitness of equal-weight portfolios (sets of strategy indices) over one matrix.

    values: (T, N) float64 P&L. In zone mode (`zones` given) the series are
    zones.collapsed() and `values` may be None. `labels` (one source-file
    name per strategy) are needed for balanced mode; the desired count per
    file is n / number of files. `zone_correlation=True` uses the Pearson
    correlation of the collapsed zone series for the zone-mode penalty; the
    legacy default (False) uses the identity, i.e. no penalty.
    """

    def __init__(
        self,
        values: Any,
        *,
        metric: str = "ratio",
        drawdown_threshold: float = 0.0,
        xp: ModuleType | str = numpy,
        labels: Sequence[str] | None = None,
        balanced: bool = False,
        penalty_factor: float = 1.0,
        zones: ZoneData | None = None,
        zone_correlation: bool = False,
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
        self._metric_fn = get_metric(metric)
        self.metric = metric_key(metric)
        self._dd_rule = uses_drawdown_threshold(self._metric_fn)
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

        if self._use_corr:
            z = numpy.asarray(normalise_columns(host), dtype=numpy.float64)
            z[:, constant_columns(host)] = 0.0
        else:
            z = numpy.zeros_like(host)
        self._sq_host = numpy.einsum("tn,tn->n", z, z)
        w = numpy.ascontiguousarray(numpy.concatenate([host.T, z.T], axis=1))
        self._w = self.xp.asarray(w)
        self._sq = self.xp.asarray(self._sq_host)

        self._codes_host: numpy.ndarray | None = None
        self._n_labels = 0
        if self.balanced:
            if labels is None or len(labels) != n:
                raise ValueError("balanced mode needs one label per strategy")
            names, codes = numpy.unique(numpy.asarray(list(labels), dtype=object), return_inverse=True)
            self._codes_host = codes.astype(numpy.int64)
            self._codes = self.xp.asarray(self._codes_host)
            self._n_labels = len(names)

    # ------------------------------------------------------------ internals

    def _gather_sum(self, sets: Any) -> Any:
        """(P, 2T): per row, the sum of W over the row's strategies."""
        xp = self.xp
        if xp is numpy:
            # Accumulate one position at a time: the (P, 2T) accumulator stays
            # in cache instead of materialising a (P, n, 2T) gather.
            acc = numpy.take(self._w, sets[:, 0], axis=0)
            for j in range(1, sets.shape[1]):
                acc += numpy.take(self._w, sets[:, j], axis=0)
            return acc
        return self._w[sets].sum(axis=1)

    def _counts(self, sets: Any) -> Any:
        """(P, K): how many strategies of each source file every row holds."""
        xp = self.xp
        p = sets.shape[0]
        k = self._n_labels
        flat = self._codes[sets] + (xp.arange(p, dtype=xp.int64) * k)[:, None]
        return xp.bincount(flat.ravel(), minlength=p * k).reshape(p, k)

    def _score(self, acc: Any, sumsq: Any, counts: Any, n: int) -> Any:
        """Fitness of P portfolios from their sums: base - penalties, shape (P,)."""
        xp = self.xp
        t = self.n_days
        series = acc[:, :t] / n
        max_dd = None
        if self._dd_rule:
            max_dd = max_drawdown(series, xp)
            base = self._metric_fn(series, xp, max_dd=max_dd)
        else:
            base = self._metric_fn(series, xp)
        if self._use_corr and n >= 2:
            zsum = acc[:, t:]
            mean_r = ((zsum * zsum).sum(axis=1) - sumsq) / float(n * (n - 1))
            if self._clip_negative:
                mean_r = xp.maximum(mean_r, 0.0)
            penalty = self._penalty_scale * mean_r
            if self._dd_rule and self.drawdown_threshold > 0:
                penalty = xp.where(max_dd < self.drawdown_threshold, penalty * 0.5, penalty)
            base = base - penalty
        if self.balanced:
            want = desired_count(n, self._n_labels)
            base = base - self.penalty_factor * xp.abs(counts - want).sum(axis=1)
        return base

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
        xp = self.xp
        for start in range(0, p, CHUNK_ROWS):
            chunk = xp.asarray(arr[start : start + CHUNK_ROWS])
            acc = self._gather_sum(chunk)
            sumsq = self._sq[chunk].sum(axis=1) if self._use_corr else None
            counts = self._counts(chunk) if self.balanced else None
            out[start : start + len(chunk)] = to_numpy(self._score(acc, sumsq, counts, n))
        self.evaluations += p
        return out

    def evaluate_one(self, indices: Sequence[int]) -> float:
        return float(self.evaluate(numpy.asarray(indices, dtype=numpy.int64)[None, :])[0])

    def series(self, indices: Sequence[int]) -> numpy.ndarray:
        """The equal-weight portfolio series (T,), as the evaluator computes it."""
        arr = self._check_sets(numpy.asarray(indices, dtype=numpy.int64)[None, :])
        acc = self._gather_sum(self.xp.asarray(arr))
        return numpy.asarray(to_numpy(acc[0, : self.n_days] / arr.shape[1]), dtype=numpy.float64)

    def swapper(self, indices: Sequence[int]) -> Swapper:
        return Swapper(self, indices)


class Swapper:
    """One portfolio under single-swap moves: propose in O(T), accept to apply."""

    def __init__(self, evaluator: Evaluator, indices: Sequence[int]) -> None:
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
        self._last: tuple[int, int, Any, float, float] | None = None
        self._refresh()

    def _refresh(self) -> None:
        """Running sums recomputed from scratch (exact for the current set)."""
        ev = self._ev
        rows = ev.xp.asarray(self.indices[None, :])
        self._acc = ev._gather_sum(rows)[0]
        self._sumsq = float(ev._sq_host[self.indices].sum())
        self._counts = (
            numpy.bincount(ev._codes_host[self.indices], minlength=ev._n_labels)
            if ev.balanced
            else None
        )
        self.fitness = self._fitness_of(self._acc, self._sumsq, self._counts)
        self._last = None

    def _fitness_of(self, acc: Any, sumsq: float, counts: numpy.ndarray | None) -> float:
        ev = self._ev
        xp = ev.xp
        c = xp.asarray(counts[None, :]) if counts is not None else None
        s = xp.asarray([sumsq]) if ev._use_corr else None
        return float(to_numpy(ev._score(acc[None, :], s, c, len(self.indices)))[0])

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

    def _candidate(self, pos: int, new: int) -> tuple[Any, float, numpy.ndarray | None]:
        ev = self._ev
        old = int(self.indices[pos])
        acc = self._acc + ev._w[new]
        acc -= ev._w[old]
        sumsq = self._sumsq - float(ev._sq_host[old]) + float(ev._sq_host[new])
        counts = None
        if self._counts is not None:
            counts = self._counts.copy()
            counts[ev._codes_host[old]] -= 1
            counts[ev._codes_host[new]] += 1
        return acc, sumsq, counts

    def propose(self, pos: int, new_index: int) -> float:
        """Fitness if position `pos` held `new_index` instead; the state does not change."""
        pos, new = self._check(pos, new_index)
        acc, sumsq, counts = self._candidate(pos, new)
        value = self._fitness_of(acc, sumsq, counts)
        self._ev.evaluations += 1
        self._last = (pos, new, acc, sumsq, value)
        self._last_counts = counts
        return value

    def propose_many(self, positions: Sequence[int], new_indices: Sequence[int]) -> numpy.ndarray:
        """Fitness of K independent single swaps from the current state, as one batch (K,)."""
        ev = self._ev
        xp = ev.xp
        pos = numpy.asarray(positions, dtype=numpy.int64).ravel()
        new = numpy.asarray(new_indices, dtype=numpy.int64).ravel()
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
        new_d = xp.asarray(new)
        old_d = xp.asarray(old)
        acc = self._acc[None, :] + ev._w[new_d]
        acc -= ev._w[old_d]
        sumsq = xp.asarray(self._sumsq - ev._sq_host[old] + ev._sq_host[new])
        counts = None
        if self._counts is not None:
            c = numpy.tile(self._counts, (len(pos), 1))
            rows = numpy.arange(len(pos))
            numpy.subtract.at(c, (rows, ev._codes_host[old]), 1)
            numpy.add.at(c, (rows, ev._codes_host[new]), 1)
            counts = xp.asarray(c)
        out = numpy.asarray(to_numpy(ev._score(acc, sumsq, counts, len(self.indices))))
        ev.evaluations += len(pos)
        return out.astype(numpy.float64, copy=False)

    def accept(self, pos: int, new_index: int) -> None:
        """Apply the swap; the fitness becomes that of the new set."""
        pos, new = self._check(pos, new_index)
        if self._last is not None and self._last[:2] == (pos, new):
            _, _, acc, sumsq, value = self._last
            counts = self._last_counts
        else:
            acc, sumsq, counts = self._candidate(pos, new)
            value = self._fitness_of(acc, sumsq, counts)
        old = int(self.indices[pos])
        self._member[old] = False
        self._member[new] = True
        self.indices[pos] = new
        self._acc, self._sumsq, self._counts, self.fitness = acc, sumsq, counts, value
        self._last = None
        self._accepted += 1
        if self._accepted % REFRESH_EVERY == 0:
            self._refresh()
