"""Zone mode: P&L per (date, zone, strategy) and the zone weights.

A zone file has rows (Date, Zone, Day, strategies...). Rows of the zones
"Outside Market", "nan" and "" are dropped; the rest are summed per (date,
zone) into M[d, z, s] with zones in sorted order (a missing (date, zone) pair
is 0). The portfolio series is p_d = sum_z w_z * mean_{i in S} M[d, z, i]
with the weights normalised to sum 1 (uniform when absent or of the wrong
length), which by linearity equals the mean over S of the collapsed matrix
X[d, s] = sum_z w_z M[d, z, s]: zone mode is plain mode on X with its own
penalty rule.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from stratopt.errors import InputError

if TYPE_CHECKING:  # imported where a file is read: the search never needs pandas
    import pandas as pd

log = logging.getLogger(__name__)


class ZoneContribution(TypedDict):
    """One zone's share of a portfolio's P&L (zones.json)."""

    zone: str
    weight: float
    roi: float
    contribution: float


DROPPED_ZONES = frozenset({"outside market", "nan", ""})
LEADING = ("Date", "Zone", "Day")


@dataclass(frozen=True)
class ZoneData:
    """M[d, z, s] (float64, D x Z x S) with its labels and normalised weights (Z,)."""

    dates: np.ndarray  # datetime64[D], (D,)
    zones: list[str]  # sorted zone names, (Z,)
    names: list[str]  # strategy names, (S,)
    values: np.ndarray  # float64, (D, Z, S)
    weights: np.ndarray  # float64, (Z,), sums to 1

    def __post_init__(self) -> None:
        d, z, s = self.values.shape
        if len(self.dates) != d or len(self.zones) != z or len(self.names) != s:
            raise ValueError(f"labels do not match M of shape {self.values.shape}")
        if self.weights.shape != (z,):
            raise ValueError(f"weights shape {self.weights.shape} != ({z},)")

    @property
    def n_strategies(self) -> int:
        return self.values.shape[2]

    def collapsed(self) -> np.ndarray:
        """X[d, s] = sum_z w_z M[d, z, s] (D x S): the series the portfolio mean is taken of.

        Summed zone by zone with element-wise operations, so that every cell is
        the same float wherever its column sits and whatever its sign (a BLAS
        contraction may round a column differently at another position): the
        prepare stage's X, reordered and ULTA-negated, equals this bit for bit.
        """
        d, z, s = self.values.shape
        out = np.zeros((d, s), dtype=np.float64)
        for k in range(z):
            out += self.weights[k] * self.values[:, k, :]
        return out

    def contributions(self, indices: Sequence[int]) -> list[ZoneContribution]:
        """Per zone, for the equal-weight portfolio `indices`: its weight, the portfolio's
        P&L in that zone over all dates (`roi`) and `contribution` = weight x roi; the
        contributions sum to the ROI of the zone-weighted series."""
        idx = np.asarray(indices, dtype=np.int64)
        per_zone = self.values[:, :, idx].mean(axis=2).sum(axis=0)  # (Z,)
        return [
            {
                "zone": zone,
                "weight": float(w),
                "roi": float(r),
                "contribution": float(w * r),
            }
            for zone, w, r in zip(self.zones, self.weights, per_zone, strict=True)
        ]


def normalise_weights(weights: Sequence[float] | None, n_zones: int) -> np.ndarray:
    """Weights scaled to sum 1; uniform when absent, of the wrong length or not positive in sum."""
    if weights is not None and len(weights) == n_zones:
        w = np.asarray(weights, dtype=np.float64)
        if np.all(np.isfinite(w)) and w.sum() > 0:
            return w / w.sum()
    if weights is not None:
        log.warning(
            "zone weights %s do not fit %d zones; using uniform weights", list(weights), n_zones
        )
    return np.full(n_zones, 1.0 / n_zones) if n_zones else np.zeros(0)


def zones_from_frame(
    frame: pd.DataFrame, weights: Sequence[float] | None = None, source: str | Path = "<frame>"
) -> ZoneData:
    """Build ZoneData from a (Date, Zone, Day, strategies...) frame."""
    import pandas as pd

    missing = [c for c in LEADING if c not in frame.columns]
    if missing:
        raise InputError(source, f"zone file lacks column(s) {missing}", expected="Date, Zone, Day")
    zone_text = frame["Zone"].astype("string").fillna("").str.strip()
    keep = ~zone_text.str.lower().isin(DROPPED_ZONES)
    frame = frame.loc[keep.to_numpy()]
    zone_text = zone_text[keep]
    names = [str(c) for c in frame.columns if c not in LEADING]
    dates = pd.to_datetime(frame["Date"], errors="coerce")
    bad = dates.isna().to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(
            source,
            f"unreadable date {frame['Date'].iloc[row]!r}",
            line=int(frame.index[row]) + 2,
            column="Date",
            expected="YYYY-MM-DD",
        )
    numeric = frame[names].apply(pd.to_numeric, errors="coerce")
    if numeric.isna().to_numpy().any():
        log.warning(
            "%s: %d missing or non-numeric cells read as 0", source, int(numeric.isna().sum().sum())
        )
    values = numeric.fillna(0.0).to_numpy(dtype=np.float64)
    day_keys = dates.dt.floor("D").to_numpy().astype("datetime64[D]")
    uniq_dates = np.unique(day_keys)
    uniq_zones = sorted(set(zone_text.tolist()))
    d_idx = np.searchsorted(uniq_dates, day_keys)
    z_lookup = {z: i for i, z in enumerate(uniq_zones)}
    z_idx = np.array([z_lookup[z] for z in zone_text.tolist()], dtype=np.int64)
    m = np.zeros((len(uniq_dates), len(uniq_zones), len(names)), dtype=np.float64)
    np.add.at(m, (d_idx, z_idx), values)
    return ZoneData(
        dates=uniq_dates,
        zones=uniq_zones,
        names=names,
        values=m,
        weights=normalise_weights(weights, len(uniq_zones)),
    )


def read_zones(path: str | Path, weights: Sequence[float] | None = None) -> ZoneData:
    """Load a zone CSV; the Zone column is read as text so that "nan" stays recognisable."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype={"Zone": "string", "Day": "string", "Date": "string"})
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise InputError(path, f"cannot read zone CSV: {exc}") from exc
    return zones_from_frame(frame, weights, source=path)
