"""The strategies' rows W = [r_i | z_i] the evaluator sums, stored whole or compact.

Why two forms: the array path (CuPy, `compiled=False`) gathers whole rows of
W, so it keeps the N x 2T matrix. The compiled kernels read the P&L rows r
(N x T) and each strategy's column mean and scale, and make z_i = (r_i - mean_i)
* scale_i as they go: the same two IEEE operations, in the same order, as
stratopt.engine.normalise, so the same bits, from half the memory (the
production shape: 17 MB instead of 33 MB, which fits the last-level cache).
A portfolio's rows are scattered over the matrix, so fewer bytes per row is
fewer waits on memory: docs/engine.md has the measured gain.

A constant column (and every column where no penalty applies) has mean and
scale 0: its z is (r * 0.0), a zero. The evaluator uses z only through
|sum z|^2 and sum |z_i|^2, which a zero's sign cannot change.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy

from stratopt.engine.normalise import constant_columns, normalise_parts


class Rows:
    """W of one (T, N) matrix: `w` (array path) or `r`, `mean`, `scale` (compiled path)."""

    def __init__(self, host: numpy.ndarray, *, use_corr: bool, xp: ModuleType, compact: bool):
        t, n = host.shape
        self.n_days = t
        self.compact = compact
        if use_corr:
            mean, scale = normalise_parts(host)
            still = constant_columns(host)
            mean[still] = 0.0
            scale[still] = 0.0
        else:
            mean = numpy.zeros(n)
            scale = numpy.zeros(n)
        self.r = numpy.ascontiguousarray(host.T, dtype=numpy.float64)
        self.mean = mean
        self.scale = scale
        z = self._z(self.r, mean, scale)
        #: sum_t z_i[t]^2 per strategy (1 for a varying column, 0 for a constant one)
        self.sq_host = numpy.einsum("nt,nt->n", z, z)
        self.sq = xp.asarray(self.sq_host)
        self.w: Any = None
        if not compact:
            self.w = xp.asarray(numpy.concatenate([self.r, z], axis=1))
        del z

    @staticmethod
    def _z(r: numpy.ndarray, mean: numpy.ndarray, scale: numpy.ndarray) -> numpy.ndarray:
        return (r - mean[:, None]) * scale[:, None]

    def take(self, indices: numpy.ndarray) -> Any:
        """(len(indices), 2T): the rows of W, the same bits as the whole matrix's."""
        if self.w is not None:
            return self.w[indices]
        r = self.r[indices]
        return numpy.concatenate([r, self._z(r, self.mean[indices], self.scale[indices])], axis=1)
