"""The twin as CSV, formatted like the production file.

The real file writes each P&L with Python's shortest round-trip repr
(`325.7650000000006`), so the twin does the same: its size then lands near the
real 39.2 MB and reading it back gives exactly the floats that were generated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from stratopt.runtime.atomic import atomic_path


def _cells(row: np.ndarray) -> str:
    return ",".join(map(repr, row.tolist()))


def write_daily(
    path: str | Path, dates: list[str], days: list[str], names: list[str], values: np.ndarray
) -> None:
    """`Date,Day,<names>` then one row per date (values is T x N)."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(["Date", "Day", *names]) + "\n")
        for date, day, row in zip(dates, days, values, strict=True):
            fh.write(f"{date},{day},{_cells(row)}\n")


def write_zones(
    path: str | Path,
    dates: list[str],
    days: list[str],
    zones: list[str],
    names: list[str],
    values: np.ndarray,
) -> None:
    """`Date,Zone,Day,<names>` then one row per (date, zone) (values is T x K x N)."""
    with atomic_path(path) as tmp, tmp.open("w", encoding="utf-8", newline="") as fh:
        fh.write(",".join(["Date", "Zone", "Day", *names]) + "\n")
        for date, day, block in zip(dates, days, values, strict=True):
            for zone, row in zip(zones, block, strict=True):
                fh.write(f"{date},{zone},{day},{_cells(row)}\n")
