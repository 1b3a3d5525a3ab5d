"""The correlation config and the fine grid every statistic is read from.

Each r is turned into one integer code, its cell on a uniform grid over
[-1, 1] of F cells (F <= 65535: a uint8 or uint16 code). F is a multiple of
the histogram's bin count, and chosen so that every |r| threshold and the
near-duplicate threshold fall on a cell boundary: then the histogram, the
threshold counts and the near-duplicate count all follow from one bincount
of the codes. Values within `delta` of a boundary are "specials", settled by
exact arithmetic (stratopt.correlation.exact).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from stratopt.errors import ConfigError

MAX_CELLS = 65535  # codes are uint16; code F (r rounded up to 1) folds into cell F-1
DEFAULTS: dict[str, Any] = {
    "shards": 4,
    "backend": "numpy",
    "dtype": "float64",
    "tile": 512,
    "bins": 200,
    "thresholds": [0.5, 0.8, 0.9, 0.95, 0.99],
    "top_pairs": 50,
    "near_duplicate": 0.99,
}


@dataclass(frozen=True)
class CorrelationSettings:
    """The `correlation` config section (defaults as in the config schema)."""

    shards: int = 4
    backend: str = "numpy"
    dtype: str = "float64"
    tile: int = 512
    bins: int = 200
    thresholds: tuple[float, ...] = (0.5, 0.8, 0.9, 0.95, 0.99)
    top_pairs: int = 50
    near_duplicate: float = 0.99

    def __post_init__(self) -> None:
        if self.shards < 1:
            raise ConfigError(f"correlation.shards must be >= 1, got {self.shards}")
        if self.dtype not in ("float64", "float32"):
            raise ConfigError(f"correlation.dtype must be float64 or float32, got {self.dtype!r}")
        if self.backend not in ("numpy", "cupy"):
            raise ConfigError(f"correlation.backend must be numpy or cupy, got {self.backend!r}")
        if not 2 <= self.bins <= MAX_CELLS:
            raise ConfigError(f"correlation.bins must be in 2..{MAX_CELLS}, got {self.bins}")
        if self.tile < 1 or self.top_pairs < 1:
            raise ConfigError("correlation.tile and correlation.top_pairs must be positive")
        for t in (*self.thresholds, self.near_duplicate):
            if not 0.0 <= t <= 1.0:
                raise ConfigError(f"correlation thresholds must lie in [0, 1], got {t}")

    @classmethod
    def from_config(cls, section: dict[str, Any] | None) -> CorrelationSettings:
        """From config['correlation'] (unknown keys such as `enabled` are ignored)."""
        merged = {**DEFAULTS, **(section or {})}
        return cls(
            shards=int(merged["shards"]),
            backend=str(merged["backend"]),
            dtype=str(merged["dtype"]),
            tile=int(merged["tile"]),
            bins=int(merged["bins"]),
            thresholds=tuple(float(t) for t in merged["thresholds"]),
            top_pairs=int(merged["top_pairs"]),
            near_duplicate=float(merged["near_duplicate"]),
        )

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["thresholds"] = list(self.thresholds)
        return d

    @property
    def edges(self) -> np.ndarray:
        """The histogram's bin edges, made exactly as numpy.histogram makes them."""
        return np.linspace(-1.0, 1.0, self.bins + 1, endpoint=True)

    @property
    def cells_per_bin(self) -> int:
        return fine_grid(self.bins, (*self.thresholds, self.near_duplicate))

    @property
    def cells(self) -> int:
        return self.bins * self.cells_per_bin


def on_grid(value: float, cells: int) -> bool:
    """Whether r = value is a boundary of the F-cell grid over [-1, 1]."""
    q = (value + 1.0) * cells / 2.0
    return abs(q - round(q)) < 1e-9


def fine_grid(bins: int, decision_values: tuple[float, ...]) -> int:
    """Cells per histogram bin: the smallest m putting every value on the grid.

    Smallest, because a bincount over few cells is fastest (uint8 codes with
    bins <= 255 and thresholds on bin edges, as with the defaults). When no
    m <= 65535 // bins fits them all, the largest m is used and the
    thresholds off the grid are counted by direct comparisons (shard.py).
    """
    top = MAX_CELLS // bins
    for m in range(1, top + 1):
        if all(on_grid(v, bins * m) and on_grid(-v, bins * m) for v in decision_values):
            return m
    return top


@dataclass(frozen=True)
class Grid:
    """The constants every reducer reads the codes with (one shard, one T)."""

    cells: int  # F
    half: float  # F / 2: code = floor((r + 1) F / 2 + eps)
    exact: bool  # float64 tiles: values within delta of a boundary are settled exactly
    delta: float
    eps: float  # delta in code units (0 for float32)
    lowest_boundary: int  # the grid boundaries whose near values are specials
    highest_boundary: int
    offgrid: tuple[float, ...]  # thresholds off the grid, counted by direct comparisons

    @classmethod
    def of(cls, settings: CorrelationSettings, n_days: int) -> Grid:
        cells = settings.cells
        half = cells / 2.0
        exact = settings.dtype == "float64"
        delta = delta_for(n_days, settings.dtype)
        ends_decide = any(t >= 1.0 for t in (*settings.thresholds, settings.near_duplicate))
        return cls(
            cells=cells,
            half=half,
            exact=exact,
            delta=delta,
            eps=delta * half if exact else 0.0,
            lowest_boundary=0 if ends_decide else 1,
            highest_boundary=cells if ends_decide else cells - 1,
            offgrid=tuple(t for t in settings.thresholds if not on_grid(t, cells)),
        )


def delta_for(n_days: int, dtype: str) -> float:
    """Half-width of the band around a boundary whose values are settled exactly.

    It bounds |computed r - exact r| with a wide margin: the error of a
    T-term dot product of unit vectors plus the normalisation is at most
    about (T + 4) * u (u = 2**-53 in float64); we take 8 times that, and no
    less than 1e-12. float32 tiles are not refined (their bound is in
    docs/correlation.md), so delta is only used for float64.
    """
    u = 2.0**-53 if dtype == "float64" else 2.0**-24
    return max(1e-12 if dtype == "float64" else 0.0, 8.0 * (n_days + 4) * u)
