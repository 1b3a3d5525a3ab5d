"""Exact comparisons of a pair's Pearson r with a float, in integer arithmetic.

Every float64 is an integer times a power of two, so a column scaled by the
smallest power of two in it is a vector of Python integers X. With
a = T * X - sum(X) (the centred column times T, still integers),
r = (a_i . a_j) / sqrt((a_i . a_i)(a_j . a_j)) exactly, and comparing r with a
float e = p / q needs only signs and squares of integers. This settles the
few values that lie within rounding error of a bin edge or threshold.
"""

from __future__ import annotations

import math

import numpy as np


class ExactColumns:
    """Integer-exact centred columns of a T x N float64 matrix, built on demand."""

    def __init__(self, values: np.ndarray) -> None:
        self._values = values
        self._cache: dict[int, tuple[list[int], int]] = {}

    def column(self, i: int) -> tuple[list[int], int]:
        """(a, a . a) for column i."""
        hit = self._cache.get(i)
        if hit is None:
            hit = self._cache[i] = _centred_integers(self._values[:, i])
        return hit

    def compare(self, i: int, j: int, edge: float) -> int:
        """The sign of r_ij - edge (-1, 0 or 1), exactly; r = 0 when a column is constant."""
        a, aa = self.column(i)
        b, bb = self.column(j)
        s = sum(x * y for x, y in zip(a, b, strict=True))
        return compare_r(s, aa * bb, edge)


def _centred_integers(column: np.ndarray) -> tuple[list[int], int]:
    ratios = [float(v).as_integer_ratio() for v in column]
    shift = max(d.bit_length() - 1 for _, d in ratios)  # denominators are powers of two
    x = [n << (shift - (d.bit_length() - 1)) for n, d in ratios]
    total = sum(x)
    a = [len(x) * v - total for v in x]
    return a, sum(v * v for v in a)


def compare_r(s: int, v: int, edge: float) -> int:
    """sign(s / sqrt(v) - edge); s / sqrt(v) is taken as 0 when v == 0 (legacy rule)."""
    p, q = float(edge).as_integer_ratio()
    if v == 0:
        s = 0
    if s >= 0 and p <= 0:
        return 0 if s == 0 and p == 0 else 1
    if s <= 0 and p >= 0:
        return 0 if s == 0 and p == 0 else -1
    lhs = s * s * q * q  # r^2 scaled by v * q^2
    rhs = p * p * v  # edge^2 scaled the same way
    diff = (lhs > rhs) - (lhs < rhs)
    return diff if s > 0 else -diff


def exact_r(columns: ExactColumns, i: int, j: int) -> float:
    """r_ij from the exact integers, correct to about one ulp (for tests and checks)."""
    a, aa = columns.column(i)
    b, bb = columns.column(j)
    if aa == 0 or bb == 0:
        return 0.0
    s = sum(x * y for x, y in zip(a, b, strict=True))
    # s / sqrt(aa * bb) via integer square root with enough guard bits
    v = aa * bb
    scale = 2 * 64
    root = math.isqrt(v << scale)
    return (s << (scale // 2)) / root
