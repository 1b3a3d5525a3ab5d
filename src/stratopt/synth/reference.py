"""The public real data the twin is built from, read and checked.

Two files (../shared/data, README there): the legacy's per-strategy metrics of
25,543 production strategies (every one but the first) and 500 real series
with the real 82 dates. The twin takes its names, their order, the dates and
every marginal from them, so a malformed file must stop generation with the
file, line and column named rather than yield a subtly wrong twin.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from stratopt.errors import InputError

METRICS_FILE = "sensex_strategy_metrics.csv"
SAMPLE_FILE = "sensex_real_sample_500.csv"
NAME_PREFIX = "Python_Multi_Consolidated_20250726_161921_"
FIRST_STRATEGY = "SENSEX 1000-1100 SL7%"
METRIC_COLUMNS = ("ROI", "Max Drawdown", "Win Percentage", "Profit Factor", "Expectancy")


@dataclass(frozen=True)
class Targets:
    """Per-strategy marginals the twin must reproduce (arrays of length N)."""

    roi: np.ndarray
    max_drawdown: np.ndarray
    win_count: np.ndarray  # int: days with P&L > 0
    zero_count: np.ndarray  # int: days with P&L exactly 0 (the real file has them on its last date)
    gains: np.ndarray  # sum of the positive days
    losses: np.ndarray  # |sum of the negative days|


@dataclass(frozen=True)
class ReferenceData:
    """Everything the twin borrows from the real data."""

    dates: list[str]  # "YYYY-MM-DD" as written in the sample
    days: list[str]  # weekday names as written
    names: list[str]  # all strategies, production order (first one included)
    metrics: np.ndarray  # (N, 5) float64 in METRIC_COLUMNS order; row 0 is borrowed
    borrowed_from: str  # the strategy whose metrics the first one takes
    sample_names: list[str]
    sample_values: np.ndarray  # (T, 500) float64, the real series

    @property
    def n_days(self) -> int:
        return len(self.dates)

    def targets(self, n: int | None = None) -> Targets:
        """Win count, gains and losses implied by ROI, Win % and Profit Factor.

        ROI = gains - losses and PF = gains / losses give gains = ROI * PF / (PF - 1)
        and losses = ROI / (PF - 1). Expectancy = gains / T - (T - W) / T * losses / L
        then gives the number of losing days L, and T - W - L days are exactly 0
        (one day for 2,231 real strategies, none for the rest).
        """
        m = self.metrics if n is None else self.metrics[:n]
        return Targets(*implied_counts(m, self.n_days))


def implied_counts(m: np.ndarray, t: int) -> tuple[np.ndarray, ...]:
    """(roi, max_drawdown, win_count, zero_count, gains, losses) from metric rows."""
    roi, mdd, win, pf, exp = (m[:, k] for k in range(5))
    losses = roi / (pf - 1.0)
    gains = roi + losses
    wins = np.rint(win * t).astype(np.int64)
    denom = gains - t * exp
    n_neg = np.divide((t - wins) * losses, denom, out=np.full(len(m), np.nan), where=denom > 0)
    zeros = t - wins - np.rint(n_neg)
    return roi.copy(), mdd.copy(), wins, zeros.astype(np.int64), gains, losses


def _float(text: str, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(path, f"not a number: {text!r}", line=line, column=column) from None
    if not math.isfinite(value):
        raise InputError(path, f"not a finite number: {text!r}", line=line, column=column)
    return value


def read_metrics(path: Path, n_days: int) -> tuple[list[str], np.ndarray]:
    """Strategy names (prefix removed) and their five metrics, checked for use as targets."""
    if not path.exists():
        raise InputError(path, "reference metrics file not found")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = csv.reader(fh)
        header = next(rows, None)
        if header is None or tuple(header[1:]) != METRIC_COLUMNS:
            raise InputError(
                path, f"unexpected header {header}", line=1, expected=f",{','.join(METRIC_COLUMNS)}"
            )
        names: list[str] = []
        values: list[list[float]] = []
        for line, row in enumerate(rows, start=2):
            if len(row) != 6:
                raise InputError(path, f"{len(row)} fields", line=line, expected="6")
            if not row[0].startswith(NAME_PREFIX):
                raise InputError(
                    path, f"name without the prefix {NAME_PREFIX!r}", line=line, column=""
                )
            names.append(row[0][len(NAME_PREFIX) :])
            vals = [_float(t, path, line, c) for t, c in zip(row[1:], METRIC_COLUMNS, strict=True)]
            _check_metric_row(vals, n_days, path, line)
            values.append(vals)
    if not names:
        raise InputError(path, "no strategies")
    return names, np.asarray(values, dtype=np.float64)


def _check_metric_row(vals: list[float], n_days: int, path: Path, line: int) -> None:
    """A row is usable only if some series of n_days can have these metrics."""
    roi, mdd, win, pf, _ = vals
    wins = win * n_days
    if abs(wins - round(wins)) > 1e-6 or not 1 <= round(wins) <= n_days - 1:
        raise InputError(
            path,
            f"Win Percentage {win} is not k/{n_days} with 0<k<{n_days}",
            line=line,
            column="Win Percentage",
        )
    if pf <= 0 or pf == 1.0 or (roi > 0) != (pf > 1):
        raise InputError(
            path,
            f"Profit Factor {pf} does not agree with ROI {roi}",
            line=line,
            column="Profit Factor",
        )
    if mdd < 0:
        raise InputError(path, f"negative Max Drawdown {mdd}", line=line, column="Max Drawdown")
    _, _, win_counts, zero_counts, _, _ = implied_counts(np.array([vals]), n_days)
    n_neg = n_days - win_counts[0] - zero_counts[0]
    if not (zero_counts[0] >= 0 and n_neg >= 1):
        raise InputError(
            path,
            f"Expectancy {vals[4]} implies {n_neg} losing days",
            line=line,
            column="Expectancy",
        )


def read_sample(path: Path) -> tuple[list[str], list[str], list[str], np.ndarray]:
    """Dates, weekdays, strategy names and the (T, N) real series."""
    if not path.exists():
        raise InputError(path, "reference sample file not found")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows or rows[0][:2] != ["Date", "Day"]:
        raise InputError(path, "the header must start with Date,Day", line=1)
    header = rows[0]
    dates, days, values = [], [], []
    for line, row in enumerate(rows[1:], start=2):
        if len(row) != len(header):
            raise InputError(path, f"{len(row)} fields", line=line, expected=str(len(header)))
        dates.append(row[0])
        days.append(row[1])
        values.append([_float(t, path, line, c) for t, c in zip(row[2:], header[2:], strict=True)])
    if not dates:
        raise InputError(path, "no rows")
    return dates, days, header[2:], np.asarray(values, dtype=np.float64)


def load_reference(folder: str | Path) -> ReferenceData:
    """Read both reference files; the first strategy borrows its window neighbour's metrics."""
    folder = Path(folder)
    dates, days, sample_names, sample_values = read_sample(folder / SAMPLE_FILE)
    names, metrics = read_metrics(folder / METRICS_FILE, len(dates))
    donor = _neighbour_of_first(names, folder / METRICS_FILE)
    first = metrics[names.index(donor)]
    known = set(names)
    missing = [n for n in sample_names if n not in known]
    if missing:
        raise InputError(
            folder / SAMPLE_FILE,
            f"{len(missing)} sample strategies not in {METRICS_FILE}",
            column=missing[0],
        )
    return ReferenceData(
        dates=dates,
        days=days,
        names=[FIRST_STRATEGY, *names],
        metrics=np.vstack([first, metrics]),
        borrowed_from=donor,
        sample_names=sample_names,
        sample_values=sample_values,
    )


def _neighbour_of_first(names: list[str], path: Path) -> str:
    """`SENSEX 1000-1100 SL9%`: same window, next stop loss, the legacy's nearest rule."""
    donor = FIRST_STRATEGY.replace("SL7%", "SL9%")
    if donor not in names:
        raise InputError(path, f"{donor!r} (whose metrics the first strategy borrows) is missing")
    return donor
