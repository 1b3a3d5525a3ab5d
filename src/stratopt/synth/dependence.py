"""Dependence figures of a P&L matrix: how alike strategies move.

Measured the same way on the 500 real series and on the twin (docs/twin.md):
Pearson correlation of pairs of strategies in the same entry-exit window, in
neighbouring exit rules (same window and take profit, next stop loss), and
in different windows; and the share of days on which most strategies win or
lose together.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from stratopt.data.names import parse_name

CO_MOVE_LEVELS = (0.6, 0.7, 0.8)


@dataclass(frozen=True)
class Spread:
    """Quantiles of a set of correlations."""

    pairs: int
    p05: float
    q1: float
    median: float
    q3: float
    p95: float

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @classmethod
    def of(cls, c: np.ndarray) -> Spread:
        q = np.percentile(c, [5, 25, 50, 75, 95]) if len(c) else [np.nan] * 5
        return cls(len(c), *(float(v) for v in q))


@dataclass(frozen=True)
class Dependence:
    within_window: Spread
    neighbour_rules: Spread
    across_window: Spread
    co_move: dict[str, float]  # "0.7" -> share of days with >= 70 % winning or >= 70 % losing

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ("within_window", "neighbour_rules", "across_window"):
            d[k]["iqr"] = getattr(self, k).iqr
        return d


def _keys(names: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    parsed = [parse_name(n) for n in names]
    windows = {w: i for i, w in enumerate(sorted({p.window or "" for p in parsed}))}
    win = np.array([windows[p.window or ""] for p in parsed])
    sl = np.array([p.stop_loss if p.stop_loss is not None else np.nan for p in parsed])
    tp = np.array([p.take_profit if p.take_profit is not None else -1.0 for p in parsed])
    return win, sl, tp


def _rule_ranks(sl: np.ndarray, tp: np.ndarray, rules: set) -> np.ndarray:
    """Position of each (sl, tp) among the grid's stop losses for that take profit."""
    by_tp: dict[float, list[float]] = {}
    for rs, rt in sorted(rules):
        by_tp.setdefault(rt, []).append(rs)
    pos = {(rs, rt): k for rt, sls in by_tp.items() for k, rs in enumerate(sls)}
    return np.array([pos.get((a, b), -10) for a, b in zip(sl.tolist(), tp.tolist(), strict=True)])


def _neighbour_mask(
    sl: np.ndarray, tp: np.ndarray, i: np.ndarray, j: np.ndarray, rules: set
) -> np.ndarray:
    """Pairs (same window assumed) with the same TP and adjacent stop losses in the grid."""
    rank = _rule_ranks(sl, tp, rules)
    return (tp[i] == tp[j]) & (np.abs(rank[i] - rank[j]) == 1)


def _standardise(x: np.ndarray) -> np.ndarray:
    z = x - x.mean(axis=0)
    sd = np.sqrt((z * z).sum(axis=0))
    return np.divide(z, sd, out=np.zeros_like(z), where=sd > 0)


def measure(
    names: list[str],
    values: np.ndarray,
    across_sample: int = 3000,
    seed: int = 0,
    grid: list[str] | None = None,
) -> Dependence:
    """Dependence figures of `values` (T x N).

    Within-window and neighbour pairs: all of them, window by window.
    Across-window pairs: all pairs among at most `across_sample` strategies
    drawn at random (seeded). Neighbouring rules are neighbours in the
    exit-rule grid of `grid` (all production names; default `names`).
    """
    t, n = values.shape
    win, sl, tp = _keys(names)
    _, gsl, gtp = _keys(grid) if grid is not None else (None, sl, tp)
    rules = set(zip(gsl.tolist(), gtp.tolist(), strict=True))
    within, neighbour = [], []
    for w in np.unique(win):
        cols = np.flatnonzero(win == w)
        if len(cols) < 2:
            continue
        z = _standardise(values[:, cols])
        i, j = np.triu_indices(len(cols), 1)
        c = (z.T @ z)[i, j]
        within.append(c)
        neighbour.append(c[_neighbour_mask(sl[cols], tp[cols], i, j, rules)])
    rng = np.random.default_rng(seed)
    cols = (
        np.sort(rng.choice(n, across_sample, replace=False)) if n > across_sample else np.arange(n)
    )
    z = _standardise(values[:, cols])
    i, j = np.triu_indices(len(cols), 1)
    other = win[cols][i] != win[cols][j]
    across = (z.T @ z)[i[other], j[other]]
    share_win = (values > 0).mean(axis=1)
    co = {
        f"{lv:g}": float(np.mean((share_win >= lv) | (share_win <= 1 - lv)))
        for lv in CO_MOVE_LEVELS
    }
    cat = np.concatenate
    return Dependence(Spread.of(cat(within)), Spread.of(cat(neighbour)), Spread.of(across), co)
