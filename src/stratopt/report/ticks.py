"""Axis scales and tick marks for the report's SVG charts (stratopt.report.svgplot).

Round-number ticks (steps of 1, 2, 2.5 or 5 x a power of ten), powers of
ten on log scales, calendar ticks (days, months, years) on date axes. Plain
arithmetic on the data's limits, so the same data gives the same ticks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Tick = tuple[float, str]


@dataclass(frozen=True)
class Scale:
    """Data values on [lo, hi] to the unit interval: linear, log10 or symmetric log."""

    lo: float
    hi: float
    kind: str = "linear"  # linear | log | symlog
    linthresh: float = 1.0

    def _t(self, v: float) -> float:
        if self.kind == "log":
            return math.log10(max(v, 1e-300))
        if self.kind == "symlog":
            a = abs(v) / self.linthresh
            return math.copysign(a if a < 1.0 else 1.0 + math.log10(a), v)
        return v

    def unit(self, v: float) -> float:
        lo, hi = self._t(self.lo), self._t(self.hi)
        return (self._t(v) - lo) / (hi - lo) if hi != lo else 0.5


def limits(
    values: np.ndarray, *, pad: float = 0.05, include: float | None = None
) -> tuple[float, float]:
    """[lo, hi] around the finite values, `pad` of the span added on each side."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if include is not None:
        v = np.append(v, include)
    if v.size == 0:
        return 0.0, 1.0
    lo, hi = float(v.min()), float(v.max())
    if hi == lo:
        half = abs(lo) * 0.05 or 1.0
        return lo - half, hi + half
    span = hi - lo
    return lo - pad * span, hi + pad * span


def _step(span: float, target: int) -> float:
    raw = span / max(target, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if m * mag >= raw * (1 - 1e-9):
            return m * mag
    return 10.0 * mag


def number(v: float, step: float) -> str:
    """v with as many decimals as the step needs (2.5 -> one), thousands separated, never '-0'."""
    d = 0
    while d < 12 and abs(step * 10**d - round(step * 10**d)) > 1e-6 * max(1.0, abs(step) * 10**d):
        d += 1
    text = f"{v:,.{d}f}"
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def linear_ticks(lo: float, hi: float, target: int = 6) -> list[Tick]:
    """Round-number ticks inside [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [(lo, number(lo, 1.0))] if math.isfinite(lo) else []
    step = _step(hi - lo, target)
    first = math.ceil(lo / step - 1e-9)
    last = math.floor(hi / step + 1e-9)
    return [(k * step, number(k * step, step)) for k in range(first, last + 1)]


def power_ticks(lo: float, hi: float) -> list[Tick]:
    """Powers of ten inside [lo, hi] (lo > 0), labelled 1, 10, 100, 1k, .. 1e6."""
    ticks = []
    for k in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
        v = 10.0**k
        if lo * (1 - 1e-9) <= v <= hi * (1 + 1e-9):
            ticks.append((v, _power_label(k)))
    return ticks


def _power_label(k: int) -> str:
    if 0 <= k <= 3:
        return f"{10**k:,}"
    if 3 < k < 6:
        return f"{10 ** (k - 3)}k"
    return f"1e{k}"


def symlog_ticks(hi: float, linthresh: float) -> list[Tick]:
    """0, then linthresh and its powers of ten up to hi."""
    ticks: list[Tick] = [(0.0, "0")]
    v, k = linthresh, round(math.log10(linthresh))
    while v <= hi * (1 + 1e-9):
        ticks.append((v, _power_label(k)))
        v, k = v * 10, k + 1
    return ticks


#: Calendar steps: (unit, count); the first that gives at most `target` ticks wins.
DATE_STEPS: tuple[tuple[str, int], ...] = (
    ("D", 1),
    ("D", 2),
    ("D", 7),
    ("D", 14),
    ("M", 1),
    ("M", 2),
    ("M", 3),
    ("M", 6),
)
DATE_STEPS += (("Y", 1), ("Y", 2), ("Y", 5), ("Y", 10), ("Y", 20), ("Y", 50))


def date_ticks(first_day: int, last_day: int, target: int = 8) -> list[Tick]:
    """Calendar ticks between two days (days since 1970-01-01), at those day numbers."""
    for unit, count in DATE_STEPS:
        days = _date_marks(first_day, last_day, unit, count)
        if len(days) <= target:
            break
    fmt = {"D": "%d %b %Y", "M": "%b %Y", "Y": "%Y"}[unit]
    labels = [d.strftime(fmt) for d in days.astype("datetime64[D]").astype("O")]
    return [(float(d), label) for d, label in zip(days, labels, strict=True)]


def _date_marks(lo: int, hi: int, unit: str, count: int) -> np.ndarray:
    """The first day of every count-th day, month or year (aligned on the calendar) in [lo, hi]."""
    if unit == "D":
        start = lo + ((4 - lo) % 7 if count >= 7 else 0)  # weekly: Mondays (day 4 is 1970-01-05)
        return np.arange(start, hi + 1, count, dtype=np.int64)
    step = count * (12 if unit == "Y" else 1)
    m0, m1 = np.array([lo, hi]).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    months = np.arange(m0 + (-m0) % step, m1 + 1, step)
    days = months.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    return days[days >= lo]
