"""The twin's dependence: one latent Gaussian day-score per strategy.

Strategies that share an entry-exit window trade the same option at the same
time, so they move together; the closer their stop losses (and take profits)
the closer their P&L. Across windows they share the market of the day. The
latent field encodes exactly that:

- within a window, the 206 exit rules form a Gaussian field with covariance
  K(r, r') = beta_w + (1 - beta_w) * exp(-|dSL| / L_sl - |dTP| / L_tp)
  (a rule without take profit sits at TP = `tp_none`; beta_w, the window's
  common share, varies between windows as the real ones do);
- the field of each window is conditioned (Matheron's rule, with a nugget)
  on the normal scores of the real series of that window, so the twin
  inherits the real cross-window and day-level co-movement; a window with no
  real series borrows the series of its nearest window with a larger nugget.

Each window draws from its own generator, seeded by (seed, window index), so
any subset of strategies gets the same numbers as the full twin.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import cast

import numpy as np

from stratopt.data.names import parse_name


@dataclass(frozen=True)
class FieldParams:
    """Shape of the within-window covariance (calibrated in docs/twin.md)."""

    beta: float = 0.15  # typical share of the window-wide common part
    beta_spread: float = 2.5  # sd of logit(beta) across windows: some windows are more alike
    length_sl: float = 100.0  # stop-loss distance (percentage points) for 1/e
    length_tp: float = 250.0  # take-profit distance for 1/e
    length_scales: tuple[float, ...] = (0.1, 0.3, 1.0, 3.0, 10.0)  # one per window, drawn uniformly
    tp_none: float = 100.0  # where "no take profit" sits on the TP axis
    nugget: float = 0.02  # observation noise of a real series in its own window
    nugget_borrowed: float = 1.0  # ... of a neighbour window's series


@dataclass(frozen=True)
class Layout:
    """Window and rule index of each strategy, and the rule coordinates."""

    windows: list[str]  # sorted unique windows
    window_minutes: np.ndarray  # (W, 2) entry, exit in minutes
    rules: list[tuple[float, float]]  # (sl, tp coordinate), sorted
    window_of: np.ndarray  # (N,) int
    rule_of: np.ndarray  # (N,) int


def layout_of(names: list[str], tp_none: float) -> Layout:
    """Index every name by window and exit rule; every name must parse."""
    parsed = [parse_name(n) for n in names]
    bad = [p.name for p in parsed if p.window is None or p.stop_loss is None]
    if bad:
        raise ValueError(f"strategy names without window/exit rule, e.g. {bad[0]!r}")
    # every name has both (checked above): the casts only tell the type checker
    windows = sorted({cast(str, p.window) for p in parsed})
    coords = [
        (cast(float, p.stop_loss), p.take_profit if p.take_profit is not None else tp_none)
        for p in parsed
    ]
    rules = sorted(set(coords))
    w_index = {w: i for i, w in enumerate(windows)}
    r_index = {r: i for i, r in enumerate(rules)}
    minutes = np.array([[_minutes(x) for x in w.split("-")] for w in windows], dtype=np.float64)
    return Layout(
        windows=windows,
        window_minutes=minutes,
        rules=rules,
        window_of=np.array([w_index[cast(str, p.window)] for p in parsed], dtype=np.int64),
        rule_of=np.array([r_index[c] for c in coords], dtype=np.int64),
    )


def _minutes(hhmm: str) -> int:
    v = int(hhmm)
    return (v // 100) * 60 + v % 100


def rule_kernel(rules: list[tuple[float, float]], p: FieldParams, scale: float = 1.0) -> np.ndarray:
    """The rule-specific part exp(-(|dSL| / L_sl + |dTP| / L_tp) / scale) (R x R), positive definite."""
    c = np.asarray(rules, dtype=np.float64)
    d_sl = np.abs(c[:, None, 0] - c[None, :, 0]) / p.length_sl
    d_tp = np.abs(c[:, None, 1] - c[None, :, 1]) / p.length_tp
    return np.exp(-(d_sl + d_tp) / scale)


def window_beta(p: FieldParams, rng: np.random.Generator) -> float:
    """This window's common share: logit-normal around `beta`."""
    logit = np.log(p.beta / (1.0 - p.beta)) + p.beta_spread * rng.standard_normal()
    return float(1.0 / (1.0 + np.exp(-logit)))


def normal_scores(series: np.ndarray) -> np.ndarray:
    """Per column, the standard normal quantiles of the ranks (ties averaged): (T, m) -> (m, T)."""
    t = series.shape[0]
    order = np.argsort(series, axis=0, kind="stable")
    ranks = np.empty_like(order, dtype=np.float64)
    np.put_along_axis(ranks, order, np.arange(t, dtype=np.float64)[:, None], axis=0)
    for j in range(series.shape[1]):  # average tied ranks (capped TP days repeat exactly)
        col = series[:, j]
        _, inverse, counts = np.unique(col, return_inverse=True, return_counts=True)
        if counts.max() > 1:
            sums = np.bincount(inverse, weights=ranks[:, j])
            ranks[:, j] = sums[inverse] / counts[inverse]
    inv = np.vectorize(NormalDist().inv_cdf)
    return inv((ranks.T + 0.5) / t)


@dataclass(frozen=True)
class Observations:
    """Per window: the real series that condition it (rule index, scores, nugget, sample column)."""

    rules: list[np.ndarray]
    scores: list[np.ndarray]  # (m, T)
    nuggets: list[float]
    columns: list[np.ndarray]  # sample column of each observation


def observations(
    layout: Layout, sample_names: list[str], sample_values: np.ndarray, p: FieldParams
) -> Observations:
    """Assign the real series to their windows; empty windows borrow the nearest window's."""
    lay = layout_of(sample_names, p.tp_none)
    w_index = {w: i for i, w in enumerate(layout.windows)}
    r_index = {r: i for i, r in enumerate(layout.rules)}
    scores = normal_scores(sample_values)
    own: dict[int, list[int]] = {}
    for j in range(len(sample_names)):
        w = w_index[lay.windows[lay.window_of[j]]]
        own.setdefault(w, []).append(j)
    rules, sc, nug, cols = [], [], [], []
    for w in range(len(layout.windows)):
        if w in own:
            js, nugget = own[w], p.nugget
        else:
            dist = np.abs(layout.window_minutes - layout.window_minutes[w]).sum(axis=1)
            dist[[k for k in range(len(dist)) if k not in own]] = np.inf
            js, nugget = own[int(np.argmin(dist))], p.nugget_borrowed
        cols.append(np.asarray(js, dtype=np.int64))
        rules.append(np.array([r_index[lay.rules[lay.rule_of[j]]] for j in js], dtype=np.int64))
        sc.append(scores[js])
        nug.append(nugget)
    return Observations(rules, sc, nug, cols)


def window_field(
    kernel: np.ndarray,
    prior: np.ndarray,
    obs_rules: np.ndarray,
    obs_scores: np.ndarray,
    nugget: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """One window's latent scores (R x T): a prior draw (N(0, K) per day) corrected towards the observations."""
    noise = np.sqrt(nugget) * rng.standard_normal(obs_scores.shape)
    k_oo = kernel[np.ix_(obs_rules, obs_rules)] + nugget * np.eye(len(obs_rules))
    weights = np.linalg.solve(k_oo, obs_scores - prior[obs_rules] - noise)
    return prior + kernel[:, obs_rules] @ weights


def ou_grid(
    sl: np.ndarray, tp: np.ndarray, p: FieldParams, scale: float, t: int, rng: np.random.Generator
) -> np.ndarray:
    """N(0, rule_kernel) on the full SL x TP grid (S x P x T), with no factorisation.

    The kernel is a product of two exponential kernels, each that of an
    Ornstein-Uhlenbeck process: an AR(1) recursion along the sorted stop
    losses, then along the take profits, gives exactly that covariance
    (and needs no BLAS, which is slow when threads contend for 2 cores).
    """
    x = rng.standard_normal((len(sl), len(tp), t))
    for axis, coords, length in ((0, sl, p.length_sl), (1, tp, p.length_tp)):
        rho = np.exp(-np.diff(coords) / (length * scale))
        x = np.moveaxis(x, axis, 0)
        for k in range(1, len(coords)):
            x[k] = rho[k - 1] * x[k - 1] + np.sqrt(1.0 - rho[k - 1] ** 2) * x[k]
        x = np.moveaxis(x, 0, axis)
    return x


def latent_scores(
    layout: Layout, obs: Observations, seed: int, p: FieldParams, windows: np.ndarray
) -> dict[int, np.ndarray]:
    """The latent field (R x T) of each requested window, K_w = beta_w + (1 - beta_w) * rule_kernel."""
    t = int(obs.scores[0].shape[1])
    coords = np.asarray(layout.rules, dtype=np.float64)
    sl, sl_idx = np.unique(coords[:, 0], return_inverse=True)
    tp, tp_idx = np.unique(coords[:, 1], return_inverse=True)
    bases = [rule_kernel(layout.rules, p, s) for s in p.length_scales]
    out = {}
    for w in windows.tolist():
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(w,)))
        level = int(rng.integers(len(bases)))
        b = window_beta(p, rng)
        rule_part = ou_grid(sl, tp, p, p.length_scales[level], t, rng)[sl_idx, tp_idx]
        prior = np.sqrt(b) * rng.standard_normal(t)[None, :] + np.sqrt(1.0 - b) * rule_part
        out[w] = window_field(
            b + (1.0 - b) * bases[level], prior, obs.rules[w], obs.scores[w], obs.nuggets[w], rng
        )
    return out


def template_of(layout: Layout, obs: Observations, p: FieldParams, idx: np.ndarray) -> np.ndarray:
    """For each strategy, the real series (sample column) closest to it in rule space."""
    kernel = rule_kernel(layout.rules, p)
    out = np.empty(len(idx), dtype=np.int64)
    for k, s in enumerate(idx.tolist()):
        w, r = layout.window_of[s], layout.rule_of[s]
        out[k] = obs.columns[w][int(np.argmax(kernel[r, obs.rules[w]]))]
    return out
