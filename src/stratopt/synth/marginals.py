"""From latent scores to P&L series with the real per-strategy metrics.

For one strategy with T days, W winning days, Z zero days, gains G and losses L:
- the last Z days are 0 (as in the real file, whose zero days all fall on its
  last date); of the others, the W days with the highest latent score win and
  the rest lose, which fixes Win % and, with G and L, Expectancy;
- magnitudes follow the quantiles of a real series' gains and losses (its
  nearest real neighbour), ranked by the latent score, and are scaled so the
  positive days sum to G and the negative to -L: ROI, Win %, Profit Factor
  and Expectancy are then exact;
- Max Drawdown is fitted last. The series with the same signs and the same
  G and L form a convex set on which the drawdown (a maximum of linear
  functions) is convex; moving along a segment towards a series with a
  deeper (or shallower) drawdown reaches the target at a unique point,
  found by bisection. Signs, G and L stay exact along the segment.

Arrays here are (N, T): one strategy per row.
"""

from __future__ import annotations

import numpy as np

GRID = 1024  # points of each template's quantile function
IN_LOSS_SHARE = 0.95  # share of the losses the deep series puts in its drawdown
IN_GAIN_KEEP = 0.1  # factor on the gains the deep series keeps inside it


def max_drawdown(x: np.ndarray) -> np.ndarray:
    """Legacy Max Drawdown per row: the peak starts at the first day's equity."""
    eq = np.cumsum(x, axis=1)
    return (np.maximum.accumulate(eq, axis=1) - eq).max(axis=1)


def quantile_grid(values: np.ndarray) -> np.ndarray:
    """Per real series (T, m): quantile functions of gains and of |losses|, mean 1: (2, m, GRID)."""
    u = (np.arange(GRID) + 0.5) / GRID
    out = np.ones((2, values.shape[1], GRID))
    for j in range(values.shape[1]):
        for side, mags in enumerate((values[values[:, j] > 0, j], -values[values[:, j] < 0, j])):
            if len(mags) == 0:
                continue
            a = np.sort(mags)
            q = np.interp(u * len(a) - 0.5, np.arange(len(a)), a)
            out[side, j] = q / q.mean()
    return out


def zero_mask(zeros: np.ndarray, t: int) -> np.ndarray:
    """(N, T): True on each strategy's last `zeros` days."""
    return np.arange(t)[None, :] >= (t - zeros)[:, None]


def initial_series(
    z: np.ndarray,
    wins: np.ndarray,
    zeros: np.ndarray,
    gains: np.ndarray,
    losses: np.ndarray,
    grids: np.ndarray,
    template: np.ndarray,
) -> np.ndarray:
    """Signs from the top-W scores, magnitudes from the template's quantiles (exact sums)."""
    n, t = z.shape
    zero = zero_mask(zeros, t)
    rank = np.empty((n, t), dtype=np.int64)  # zero days rank lowest: 0..Z-1
    np.put_along_axis(
        rank, np.argsort(np.where(zero, -np.inf, z), axis=1), np.arange(t)[None, :], axis=1
    )
    pos = rank >= (t - wins)[:, None]
    first_neg = zeros[:, None]
    n_neg = (t - wins)[:, None] - first_neg
    # gains: rank among winners 0..W-1 (small to large); losses: 0..L-1 (large to small score)
    u_pos = (rank - (t - wins)[:, None] + 0.5) / wins[:, None]
    u_neg = ((t - wins)[:, None] - 1 - rank + 0.5) / n_neg
    u = np.where(pos, u_pos, u_neg)
    g = np.clip((u * GRID).astype(np.int64), 0, GRID - 1)
    mag = np.where(pos, grids[0][template[:, None], g], grids[1][template[:, None], g])
    return _rescale(np.where(zero, 0.0, np.where(pos, mag, -mag)), gains, losses)


def _rescale(x: np.ndarray, gains: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """Scale positives to sum `gains` and negatives to sum `-losses` (signs unchanged)."""
    pos = x > 0
    sp = np.where(pos, x, 0.0).sum(axis=1)
    sn = -np.where(pos, 0.0, x).sum(axis=1)
    return np.where(pos, x * (gains / sp)[:, None], x * (losses / sn)[:, None])


def deep_series(x: np.ndarray, gains: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """Same signs and sums, losses crowded into the current drawdown and gains moved out of it."""
    n, t = x.shape
    eq = np.cumsum(x, axis=1)
    trough = np.argmax(np.maximum.accumulate(eq, axis=1) - eq, axis=1)
    days = np.arange(t)[None, :]
    peak = np.argmax(np.where(days <= trough[:, None], eq, -np.inf), axis=1)
    inside = (days > peak[:, None]) & (days <= trough[:, None])
    pos = x > 0
    out = x.copy()
    for sign_mask, keep in ((~pos, None), (pos, IN_GAIN_KEEP)):
        mags = np.abs(np.where(sign_mask, x, 0.0))
        m_in = np.where(inside, mags, 0.0).sum(axis=1)
        m_out = mags.sum(axis=1) - m_in
        total = m_in + m_out
        share_in = IN_LOSS_SHARE * np.ones(n) if keep is None else keep * m_in / total
        ok = (m_in > 0) & (m_out > 0)
        f_in = np.where(ok, share_in * total / np.where(m_in > 0, m_in, 1.0), 1.0)
        f_out = np.where(ok, (1 - share_in) * total / np.where(m_out > 0, m_out, 1.0), 1.0)
        scale = np.where(inside, f_in[:, None], f_out[:, None])
        out = np.where(sign_mask, x * scale, out)
    return _rescale(out, gains, losses)


def shallow_series(x: np.ndarray, gains: np.ndarray, losses: np.ndarray) -> np.ndarray:
    """Same signs and sums, equal losses, each gain sized to repay the losing run before it."""
    n, t = x.shape
    pos, neg = x > 0, x < 0
    run = np.zeros((n, t))
    prev = np.zeros(n)
    for d in range(t):
        run[:, d] = prev
        prev = np.where(pos[:, d], 0.0, prev + neg[:, d])
    weight = np.where(pos, run + 0.25, np.where(neg, -1.0, 0.0))
    return _rescale(weight, gains, losses)


def fit_drawdown(
    x0: np.ndarray,
    target: np.ndarray,
    gains: np.ndarray,
    losses: np.ndarray,
    rounds: int = 3,
    steps: int = 30,
) -> np.ndarray:
    """Move each series along segments towards a deeper/shallower one until its Max Drawdown hits the target."""
    x = x0.copy()
    todo = np.arange(len(x))
    for _ in range(rounds):
        xs, tg, g, lo_ = x[todo], target[todo], gains[todo], losses[todo]
        f0 = max_drawdown(xs)
        deeper = f0 < tg
        ext = np.where(deeper[:, None], deep_series(xs, g, lo_), shallow_series(xs, g, lo_))
        f1 = max_drawdown(ext)
        crosses = (f0 - tg) * (f1 - tg) <= 0
        theta = _bisect(xs, ext, tg, ~deeper, steps)
        theta = np.where(crosses, theta, _best_on_grid(xs, ext, tg))
        x[todo] = _rescale(xs + theta[:, None] * (ext - xs), g, lo_)
        todo = todo[~crosses]
        if len(todo) == 0:
            break
    return x


def _bisect(
    x: np.ndarray, ext: np.ndarray, target: np.ndarray, above0: np.ndarray, steps: int
) -> np.ndarray:
    """The point of each segment where the (convex) drawdown crosses the target."""
    lo, hi = np.zeros(len(x)), np.ones(len(x))
    for _ in range(steps):
        mid = 0.5 * (lo + hi)
        move_lo = (max_drawdown(x + mid[:, None] * (ext - x)) > target) == above0
        lo = np.where(move_lo, mid, lo)
        hi = np.where(move_lo, hi, mid)
    return hi


def _best_on_grid(
    x: np.ndarray, ext: np.ndarray, target: np.ndarray, points: int = 11
) -> np.ndarray:
    """Where the target is out of reach: the grid point of the segment closest to it."""
    thetas = np.linspace(0.0, 1.0, points)
    err = np.stack([np.abs(max_drawdown(x + th * (ext - x)) - target) for th in thetas])
    return thetas[np.argmin(err, axis=0)]
