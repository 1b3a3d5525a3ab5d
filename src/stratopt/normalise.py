"""Normalised columns: Pearson correlation as a dot product.

z_i = (x_i - mean(x_i)) / ||x_i - mean(x_i)||, so r_ij = z_i . z_j. A constant
column gets z_i = 0, which gives r = 0 for all of its pairs, its diagonal
included: the legacy's rule for undefined correlations.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy


def normalise_columns(values: Any, xp: ModuleType = numpy, dtype: Any = None) -> Any:
    """Columns of a T x N array centred and scaled to unit length (zeros if constant)."""
    x = xp.asarray(values, dtype=dtype or xp.float64)
    centred = x - x.mean(axis=0, keepdims=True)
    norms = xp.sqrt((centred * centred).sum(axis=0, keepdims=True))
    scale = xp.where(norms > 0, 1.0 / xp.where(norms > 0, norms, 1.0), 0.0)
    return centred * scale
