"""Normalised columns: Pearson correlation as a dot product.

z_i = (x_i - mean(x_i)) / ||x_i - mean(x_i)||, so r_ij = z_i . z_j. A constant
column gets z_i = 0, which gives r = 0 for all of its pairs, its diagonal
included: the legacy's rule for undefined correlations.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy


def _centred(values: Any, xp: ModuleType, dtype: Any) -> tuple[Any, Any, Any]:
    """(x - mean, mean, scale) of a T x N array: z = (x - mean) * scale, column by column."""
    x = xp.asarray(values, dtype=dtype or xp.float64)
    mean = x.mean(axis=0, keepdims=True)
    centred = x - mean
    norms = xp.sqrt(xp.einsum("tn,tn->n", centred, centred))[None, :]
    # Constant is decided on the raw values: a column of 0.1s has a float mean
    # that is not exactly 0.1, so its centred norm is tiny but not zero.
    varies = (x.max(axis=0, keepdims=True) != x.min(axis=0, keepdims=True)) & (norms > 0)
    scale = xp.where(varies, 1.0 / xp.where(varies, norms, 1.0), 0.0)
    return centred, mean, scale


def normalise_columns(values: Any, xp: ModuleType = numpy, dtype: Any = None) -> Any:
    """Columns of a T x N array centred and scaled to unit length (zeros if constant)."""
    centred, _, scale = _centred(values, xp, dtype)
    centred *= scale
    return centred


def normalise_parts(values: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """Each column's mean and scale (N,): normalise_columns is (x - mean) * scale, bit for bit.

    For kernels that make z as they read x (stratopt.engine.rows), instead of storing it.
    """
    _, mean, scale = _centred(values, numpy, None)
    return numpy.ascontiguousarray(mean[0]), numpy.ascontiguousarray(scale[0])


def constant_columns(values: numpy.ndarray) -> numpy.ndarray:
    """Columns whose values are all equal (their correlations are undefined -> 0)."""
    if values.shape[0] == 0:
        return numpy.ones(values.shape[1], dtype=bool)
    return (values.max(axis=0) - values.min(axis=0)) == 0
