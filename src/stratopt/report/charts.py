"""The report's pictures: matplotlib (Agg, no display) to inline PNG data URIs.

Figures are built with matplotlib.figure.Figure directly (no pyplot state),
and written without a timestamp so the same data gives the same bytes. Every
figure has fixed margins (subplots_adjust; room for long tick labels measured
from the font): the constrained layout measured every artist's extent on each
draw and was about half of the charts' time.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

DPI = 96
PNG_META = {"Software": None}


def _data_uri(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    # zlib level 1: the default level 6 was a third of a chart's time, for ~15 % fewer bytes
    fig.savefig(buf, format="png", dpi=DPI, metadata=PNG_META, pil_kwargs={"compress_level": 1})
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def svg_data_uri(svg_text: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode("utf-8")).decode("ascii")


def _widest(labels: Sequence[str], size: float) -> float:
    """The widest label's width in inches at `size` points (the font's own metrics)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(size=size)
    widths = (text_to_path.get_text_width_height_descent(s, prop, ismath=False)[0] for s in labels)
    return max(widths, default=0.0) / 72.0


def _plain_text(label: str) -> str:
    """Input text drawn literally: `$` would start matplotlib's mathtext."""
    return str(label).replace("$", r"\$")


def equity_drawdown(dates: np.ndarray, series: np.ndarray, title: str) -> str:
    """Equity curve above, drawdown below (the legacy's peak starts at day one's equity)."""
    equity = np.cumsum(series)
    drawdown = np.maximum.accumulate(equity) - equity
    x = (
        dates.astype("datetime64[D]").astype("O")
        if len(dates) == len(series)
        else np.arange(len(series))
    )
    fig = Figure(figsize=(9, 5))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.93, hspace=0.08)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    top.plot(x, equity, color="#1f5fa8", lw=1.6)
    top.set_ylabel("cumulative P&L (₹)")
    top.set_title(_plain_text(title), fontsize=11)
    top.grid(alpha=0.3)
    bottom.fill_between(x, 0, -drawdown, color="#c0392b", alpha=0.45, step="mid")
    bottom.set_ylabel("drawdown (₹)")
    bottom.grid(alpha=0.3)
    fig.autofmt_xdate(bottom=0.12)
    return _data_uri(fig)


def histogram(edges: Sequence[float], counts: Sequence[float]) -> str:
    """Counts of pairwise r per bin (log scale: most pairs sit near the middle)."""
    edges_a = np.asarray(edges, dtype=float)
    counts_a = np.asarray(counts, dtype=float)
    fig = Figure(figsize=(8, 3.2))
    fig.subplots_adjust(left=0.09, right=0.98, top=0.95, bottom=0.17)
    ax = fig.subplots()
    if len(edges_a) == len(counts_a) + 1:
        ax.stairs(counts_a, edges_a, fill=True, color="#1f5fa8", alpha=0.8)
    else:
        ax.bar(np.arange(len(counts_a)), counts_a, color="#1f5fa8")
    if counts_a.max(initial=0) > 0:
        ax.set_yscale("log")
    ax.set_xlabel("Pearson r")
    ax.set_ylabel("pairs")
    ax.grid(alpha=0.3)
    return _data_uri(fig)


def heatmap(matrix: np.ndarray, labels: Sequence[str]) -> str:
    """Mean correlation between entry-exit windows; every tenth label shown."""
    n = matrix.shape[0]
    step = max(1, n // 12)
    ticks = np.arange(0, n, step)
    shown = [_plain_text(labels[i]) for i in ticks] if len(labels) == n else []
    margin = _widest(shown, 7) + 0.2  # the window labels, inches
    fig = Figure(figsize=(7.5, 6.5))
    fig.subplots_adjust(
        left=max(0.06, margin / 7.5), right=0.97, top=0.98, bottom=max(0.06, margin / 6.5)
    )
    ax = fig.subplots()
    image = ax.imshow(matrix, cmap="RdBu_r", vmin=-1, vmax=1, interpolation="nearest")
    fig.colorbar(image, ax=ax, shrink=0.8, label="mean r")
    if shown:
        ax.set_xticks(ticks, shown, rotation=90, fontsize=7)
        ax.set_yticks(ticks, shown, fontsize=7)
    return _data_uri(fig)


def stage_bars(names: Sequence[str], wall: Sequence[float], cpu: Sequence[float]) -> str:
    """Wall and CPU seconds per stage, side by side."""
    labels = [_plain_text(n) for n in names]
    height = 0.45 * len(names) + 1.2
    fig = Figure(figsize=(8, height))
    fig.subplots_adjust(
        left=(_widest(labels, 10) + 0.25) / 8, right=0.98, top=1 - 0.1 / height, bottom=0.6 / height
    )
    ax = fig.subplots()
    y = np.arange(len(names))
    ax.barh(y - 0.2, wall, height=0.4, label="wall s", color="#1f5fa8")
    ax.barh(y + 0.2, cpu, height=0.4, label="CPU s", color="#e67e22")
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("seconds")
    ax.legend(loc="lower right")
    ax.grid(axis="x", alpha=0.3)
    return _data_uri(fig)


def _x_dates(dates: np.ndarray, n: int) -> np.ndarray:
    return dates.astype("datetime64[D]").astype("O") if len(dates) == n else np.arange(n)


def oos_equity(
    dates: np.ndarray,
    pick: np.ndarray,
    naive: dict[str, np.ndarray],
    fold_starts: Sequence[int],
    title: str,
) -> str:
    """The stitched out-of-sample equity curve, naive picks beside it, a line per fold start."""
    x = _x_dates(dates, len(pick))
    fig = Figure(figsize=(9, 4.2))
    fig.subplots_adjust(left=0.09, right=0.98, top=0.92, bottom=0.16)
    ax = fig.subplots()
    ax.plot(x, np.cumsum(pick), color="#1f5fa8", lw=2.0, label="the pick (search on training)")
    styles = {
        "top_roi": ("#e67e22", "top-n by training ROI"),
        "top_ratio": ("#7f8c8d", "top-n by training ratio"),
    }
    for key, series in naive.items():
        colour, label = styles.get(key, ("#999999", key))
        ax.plot(x, np.cumsum(series), color=colour, lw=1.2, ls="--", label=label)
    for k, start in enumerate(fold_starts):
        ax.axvline(x[start], color="#555555", lw=0.8, ls=":")
        ax.annotate(
            f"fold {k}",
            (x[start], 1.0),
            xycoords=("data", "axes fraction"),
            fontsize=8,
            va="top",
            ha="left",
            color="#555555",
        )
    ax.axhline(0.0, color="#222222", lw=0.6)
    ax.set_ylabel("cumulative P&L (₹), test sessions only")
    ax.set_title(_plain_text(title), fontsize=11)
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _data_uri(fig)


def random_distribution(
    edges: Sequence[float], counts: Sequence[float], pick: float, others: dict[str, float]
) -> str:
    """Out-of-sample ROI of the random portfolios, the pick (and the naive picks) marked."""
    fig = Figure(figsize=(8, 3.4))
    fig.subplots_adjust(left=0.09, right=0.98, top=0.95, bottom=0.16)
    ax = fig.subplots()
    ax.stairs(
        np.asarray(counts, dtype=float),
        np.asarray(edges, dtype=float),
        fill=True,
        color="#9db7d5",
        label="random portfolios, same size",
    )
    ax.axvline(pick, color="#c0392b", lw=2.2, label="the pick")
    colours = ("#e67e22", "#7f8c8d")
    for (label, value), colour in zip(others.items(), colours, strict=False):
        ax.axvline(value, color=colour, lw=1.4, ls="--", label=_plain_text(label))
    ax.set_xlabel("out-of-sample ROI (₹, stitched test sessions)")
    ax.set_ylabel("portfolios")
    ax.legend(loc="best", fontsize=8)
    ax.grid(alpha=0.3)
    return _data_uri(fig)


def convergence(curves: dict[str, Sequence[Sequence[float]]], title: str) -> str:
    """Best fitness so far against evaluations spent, one step curve per algorithm."""
    fig = Figure(figsize=(8.5, 4))
    fig.subplots_adjust(left=0.1, right=0.98, top=0.92, bottom=0.13)
    ax = fig.subplots()
    for name, points in curves.items():
        pts = np.asarray(points, dtype=float)
        if pts.ndim == 2 and len(pts):
            ax.step(pts[:, 0], pts[:, 1], where="post", lw=1.4, label=_plain_text(name.upper()))
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xlabel("evaluations")
    ax.set_ylabel("best fitness so far (training, hindsight)")
    ax.set_title(_plain_text(title), fontsize=11)
    ax.legend(loc="lower right", fontsize=8, ncols=2)
    ax.grid(alpha=0.3)
    return _data_uri(fig)
