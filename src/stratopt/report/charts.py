"""The report's charts: SVG (stratopt.report.svgplot) as inline data URIs.

Each function takes the numbers a chart shows and returns a data URI for an
<img>: the report stays one file that fetches nothing. The same data gives
the same bytes (no timestamps, coordinates rounded to 0.1 px).
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence

import numpy as np

from stratopt.report import ticks
from stratopt.report.svgplot import INK, Figure, svg_data_uri, text_width
from stratopt.report.ticks import Scale

__all__ = [
    "convergence",
    "equity_drawdown",
    "heatmap",
    "histogram",
    "oos_equity",
    "random_distribution",
    "stage_bars",
    "svg_data_uri",
]

BLUE, ORANGE, RED, GREY = "#1f5fa8", "#e67e22", "#c0392b", "#7f8c8d"
#: matplotlib's tab10 cycle: one colour per algorithm.
TAB10 = "1f77b4 ff7f0e 2ca02c d62728 9467bd 8c564b e377c2 7f7f7f bcbd22 17becf"
#: ColorBrewer RdBu (11 classes), blue for -1 to red for +1, linearly interpolated.
RDBU_R = "053061 2166ac 4393c3 92c5de d1e5f0 f7f7f7 fddbc7 f4a582 d6604d b2182b 67001f"


def _x_axis(dates: np.ndarray, n: int) -> tuple[np.ndarray, list[ticks.Tick], Scale]:
    """Day numbers and calendar ticks when there is a date per point, else 0..n-1."""
    if len(dates) == n and n:
        days = np.asarray(dates).astype("datetime64[D]").astype("int64").astype(float)
        lo, hi = float(days[0]), float(days[-1])
        if hi == lo:
            lo, hi = lo - 1, hi + 1
        return (
            days,
            ticks.date_ticks(int(lo), int(hi), 7),
            Scale(lo, hi),
        )
    xs = np.arange(n, dtype=float)
    hi = float(max(n - 1, 1))
    return xs, ticks.linear_ticks(0.0, hi, 8), Scale(0.0, hi)


def _value_scale(
    *arrays: np.ndarray, include: float | None = None
) -> tuple[Scale, list[ticks.Tick]]:
    stacked = np.concatenate([np.asarray(a, dtype=float).ravel() for a in arrays] or [np.zeros(0)])
    lo, hi = ticks.limits(stacked, include=include)
    return Scale(lo, hi), ticks.linear_ticks(lo, hi, 6)


def _left_margin(yticks: Sequence[ticks.Tick], size: float = 11) -> float:
    """Room for the widest value label and the axis title beside it."""
    return 30 + max((text_width(label, size) for _, label in yticks), default=10)


def equity_drawdown(dates: np.ndarray, series: np.ndarray, title: str) -> str:
    """Equity curve above, drawdown below (the legacy's peak starts at day one's equity)."""
    equity = np.cumsum(series)
    drawdown = np.maximum.accumulate(equity) - equity
    xs, xticks, xscale = _x_axis(dates, len(series))
    top_scale, top_ticks = _value_scale(equity)
    low_scale, low_ticks = _value_scale(-drawdown, include=0.0)
    left = max(_left_margin(top_ticks), _left_margin(low_ticks))
    fig = Figure(864, 480)
    width = 864 - left - 20
    top = fig.panel(left, 36, width, 260, xscale, top_scale)
    top.line(xs, equity, BLUE, 1.6)
    top.frame(xticks, top_ticks, x_labels=False)  # the shared dates are labelled below
    top.ylabel("cumulative P&L (₹)", left_of=left - 14)
    top.title(title, 12)
    low = fig.panel(left, 306, width, 130, xscale, low_scale)
    low.area(xs, -drawdown, RED, 0.45)
    low.frame(xticks, low_ticks)
    low.ylabel("drawdown (₹)", left_of=left - 14)
    return fig.data_uri()


def histogram(edges: Sequence[float], counts: Sequence[float]) -> str:
    """Counts of pairwise r per bin (log scale: most pairs sit near the middle)."""
    counts_a = np.asarray(counts, dtype=float)
    edges_a = np.asarray(edges, dtype=float)
    if len(edges_a) != len(counts_a) + 1:
        edges_a = np.arange(len(counts_a) + 1, dtype=float)
    positive = counts_a[counts_a > 0]
    fig = Figure(768, 307)
    xscale = Scale(float(edges_a[0]), float(edges_a[-1]))
    if positive.size:
        lo = 10.0 ** math.floor(math.log10(positive.min()))
        hi = 10.0 ** math.ceil(math.log10(positive.max() * 1.05))
        yscale, yticks = Scale(lo, hi, "log"), ticks.power_ticks(lo, hi)
    else:
        yscale, yticks = Scale(0.0, 1.0), ticks.linear_ticks(0.0, 1.0, 2)
    left = _left_margin(yticks)
    ax = fig.panel(left, 14, 768 - left - 16, 240, xscale, yscale)
    ax.stairs(counts_a, edges_a, BLUE, 0.8)
    ax.frame(ticks.linear_ticks(xscale.lo, xscale.hi, 8), yticks)
    ax.xlabel("Pearson r")
    ax.ylabel("pairs", left_of=left - 14)
    return fig.data_uri()


def _colours(matrix: np.ndarray) -> np.ndarray:
    """RdBu_r on [-1, 1] as RGB bytes; NaN (no pairs) white."""
    colours = RDBU_R.split(" ")
    anchors = np.array([[int(c[k : k + 2], 16) for k in (0, 2, 4)] for c in colours], dtype=float)
    t = (np.clip(np.nan_to_num(matrix, nan=0.0), -1.0, 1.0) + 1.0) / 2.0 * (len(anchors) - 1)
    low = np.minimum(np.floor(t).astype(int), len(anchors) - 2)
    frac = (t - low)[..., None]
    rgb = anchors[low] * (1 - frac) + anchors[low + 1] * frac
    rgb[np.isnan(matrix)] = 255.0
    return np.rint(rgb).astype(np.uint8)


def _png_uri(rgb: np.ndarray, scale: int) -> str:
    from PIL import Image

    image = Image.fromarray(rgb, "RGB")
    if scale > 1:
        image = image.resize((rgb.shape[1] * scale, rgb.shape[0] * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    image.save(buf, format="png", compress_level=6)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def heatmap(matrix: np.ndarray, labels: Sequence[str]) -> str:
    """Mean correlation between entry-exit windows; about twelve labels per axis."""
    n = matrix.shape[0]
    step = max(1, n // 12)
    shown = list(range(0, n, step)) if len(labels) == n else []
    margin = 20 + max((text_width(str(labels[i]), 9) for i in shown), default=0)
    side = 520.0
    fig = Figure(margin + side + 110, 20 + side + margin)
    ax = fig.panel(margin, 20, side, side, Scale(-0.5, n - 0.5), Scale(n - 0.5, -0.5))
    ax.image(_png_uri(_colours(matrix), max(1, math.ceil(side / max(n, 1)))))
    tick = [(float(i), str(labels[i])) for i in shown]
    ax.frame(tick, tick, grid="", rotate_x=True, size=9)
    bar = fig.panel(
        margin + side + 24, 20 + side * 0.1, 16, side * 0.8, Scale(0, 1), Scale(-1.0, 1.0)
    )
    bar.image(_png_uri(_colours(np.linspace(1.0, -1.0, 256)[:, None]), 1))
    bar.frame((), ticks.linear_ticks(-1.0, 1.0, 4), grid="", size=10, y_side="right")
    fig.text(
        bar.left + bar.width + 34,
        bar.top + bar.height / 2,
        "mean r",
        size=11,
        anchor="middle",
        rotate=-90,
    )
    return fig.data_uri()


def stage_bars(names: Sequence[str], wall: Sequence[float], cpu: Sequence[float]) -> str:
    """Wall and CPU seconds per stage, side by side."""
    labels = [str(n) for n in names]
    height = 40 * len(names) + 110
    left = 24 + max((text_width(s, 11) for s in labels), default=20)
    values = np.asarray([*wall, *cpu], dtype=float)
    hi = ticks.limits(values, include=0.0, pad=0.08)[1]
    xscale = Scale(0.0, hi if hi > 0 else 1.0)
    yscale = Scale(len(names) - 0.5, -0.5)
    fig = Figure(768, height)
    ax = fig.panel(left, 16, 768 - left - 20, height - 80, xscale, yscale)
    for k, (w, c) in enumerate(zip(wall, cpu, strict=True)):
        ax.hbar(k - 0.2, 0.0, float(w), 0.4, BLUE)
        ax.hbar(k + 0.2, 0.0, float(c), 0.4, ORANGE)
    ax.frame(ticks.linear_ticks(xscale.lo, xscale.hi, 7), list(enumerate(labels)), grid="x")
    ax.xlabel("seconds")
    ax.legend([("wall s", BLUE, "fill"), ("CPU s", ORANGE, "fill")])
    return fig.data_uri()


def oos_equity(
    dates: np.ndarray,
    pick: np.ndarray,
    naive: dict[str, np.ndarray],
    fold_starts: Sequence[int],
    title: str,
) -> str:
    """The stitched out-of-sample equity curve, naive picks beside it, a line per fold start."""
    xs, xticks, xscale = _x_axis(dates, len(pick))
    curves = {"pick": np.cumsum(pick), **{k: np.cumsum(v) for k, v in naive.items()}}
    yscale, yticks = _value_scale(*curves.values(), include=0.0)
    left = _left_margin(yticks)
    fig = Figure(864, 403)
    ax = fig.panel(left, 34, 864 - left - 20, 320, xscale, yscale)
    ax.frame(xticks, yticks)
    ax.hline(0.0, INK, 0.8)
    for k, start in enumerate(fold_starts):
        if 0 <= start < len(xs):
            ax.vline(xs[start], "#555555", 1.0, "2,3")
            ax.note(xs[start], f"fold {k}")
    styles = {
        "top_roi": (ORANGE, "top-n by training ROI"),
        "top_ratio": (GREY, "top-n by training ratio"),
    }
    entries: list[tuple[str, str, str | None]] = [("the pick (search on training)", BLUE, None)]
    for key in naive:
        colour, label = styles.get(key, ("#999999", key))
        ax.line(xs, curves[key], colour, 1.3, "6,4")
        entries.append((label, colour, "6,4"))
    ax.line(xs, curves["pick"], BLUE, 2.2)
    ax.ylabel("cumulative P&L (₹), test sessions only", left_of=left - 14)
    ax.title(title, 12)
    fig.height = ax.legend_below(entries, 28) + 6
    return fig.data_uri()


def random_distribution(
    edges: Sequence[float], counts: Sequence[float], pick: float, others: dict[str, float]
) -> str:
    """Out-of-sample ROI of the random portfolios, the pick (and the naive picks) marked."""
    edges_a = np.asarray(edges, dtype=float)
    counts_a = np.asarray(counts, dtype=float)
    marks = [float(pick), *(float(v) for v in others.values())]
    lo, hi = ticks.limits(np.concatenate([edges_a, marks]), pad=0.03)
    top = float(counts_a.max(initial=0.0)) * 1.08 or 1.0
    xscale, yscale = Scale(lo, hi), Scale(0.0, top)
    yticks = ticks.linear_ticks(0.0, top, 5)
    left = _left_margin(yticks)
    fig = Figure(768, 326)
    ax = fig.panel(left, 14, 768 - left - 16, 258, xscale, yscale)
    ax.stairs(counts_a, edges_a, "#9db7d5")
    ax.frame(ticks.linear_ticks(lo, hi, 7), yticks)
    ax.vline(float(pick), RED, 2.2)
    entries = [("random portfolios, same size", "#9db7d5", "fill"), ("the pick", RED, None)]
    for (label, value), colour in zip(others.items(), (ORANGE, GREY), strict=False):
        ax.vline(float(value), colour, 1.4, "6,4")
        entries.append((label, colour, "6,4"))
    ax.xlabel("out-of-sample ROI (₹, stitched test sessions)")
    ax.ylabel("portfolios", left_of=left - 14)
    fig.height = ax.legend_below(entries, 46) + 6
    return fig.data_uri()


def convergence(curves: dict[str, Sequence[Sequence[float]]], title: str) -> str:
    """Best fitness so far against evaluations spent, one step curve per algorithm."""
    drawn = {
        name: np.asarray(points, dtype=float)
        for name, points in curves.items()
        if np.asarray(points).ndim == 2 and len(points)
    }
    xs = np.concatenate([p[:, 0] for p in drawn.values()] or [np.ones(1)])
    ys = np.concatenate([p[:, 1] for p in drawn.values()] or [np.zeros(1)])
    hi = max(float(np.nanmax(xs)), 10.0)
    xscale = Scale(0.0, hi * 1.05, "symlog", 10.0)
    yscale, yticks = _value_scale(ys)
    left = _left_margin(yticks)
    fig = Figure(816, 384)
    ax = fig.panel(left, 34, 816 - left - 20, 300, xscale, yscale)
    ax.frame(ticks.symlog_ticks(hi * 1.05, 10.0), yticks)
    entries = []
    for k, (name, pts) in enumerate(drawn.items()):
        cycle = TAB10.split(" ")
        colour = "#" + cycle[k % len(cycle)]
        ax.step(pts[:, 0], pts[:, 1], colour, 1.4)
        entries.append((name.upper(), colour, None))
    ax.xlabel("evaluations")
    ax.ylabel("best fitness so far (training, hindsight)", left_of=left - 14)
    ax.title(title, 12)
    fig.height = ax.legend_below(entries, 46) + 6
    return fig.data_uri()
