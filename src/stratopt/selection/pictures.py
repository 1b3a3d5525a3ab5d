"""The select stage's legacy pictures: equity_curve_size{n}.png and drawdown_size{n}.png.

Apart from stratopt.selection.select so that each module stays short; the
pictures are drawn per size while select writes the legacy layout.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from stratopt import contracts
from stratopt.runtime.atomic import atomic_path

PICTURES = {"equity_curve": contracts.LEGACY_EQUITY, "drawdown": contracts.LEGACY_DRAWDOWN}


class Pictures:
    """equity_curve_size{n}.png and drawdown_size{n}.png (the legacy's two pictures per size).

    Every size has the same dates, so each figure's unchanging part (frame,
    date axis with its ticks and labels, vertical grid, the value axis' label
    and the title but its size) is drawn once and kept as a pixel buffer; a
    picture restores it and draws only what depends on the portfolio: the
    curve, the value axis (ticks, labels, grid) and the size after the title,
    then encodes the buffer as an RGB PNG with zlib level 1. Text was most of
    matplotlib's cost per picture: the title is left-aligned so that its fixed
    words stay in the background, and the value label has a fixed place (no
    measuring of the tick labels to place it); the default PNG compression
    (level 6) was about a third of the rest (docs/performance.md has the figures).
    """

    def __init__(self, dates: np.ndarray) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.dates as mdates

        self.x = mdates.date2num(dates.astype("datetime64[D]"))
        self.parts = {
            "equity_curve": self._part("Equity curve", "tab:blue"),
            "drawdown": self._part("Drawdown", "tab:red"),
        }

    def _part(self, name: str, colour: str) -> dict[str, Any]:
        """One figure, its background drawn, and the artists a picture draws over it."""
        import matplotlib.dates as mdates
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(8, 4), dpi=DPI)
        canvas = FigureCanvasAgg(fig)
        fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.12)
        ax = fig.add_subplot(1, 1, 1)
        locator = mdates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
        ax.set_ylabel("P&L")
        ax.yaxis.set_label_coords(-0.11, 0.5)  # fixed: clear of 7-character tick labels
        ax.grid(True, alpha=0.3)
        title = ax.set_title(f"{name}, best portfolio of size", loc="left")
        (line,) = ax.plot(self.x, np.zeros_like(self.x), color=colour, linewidth=1.2)
        if len(self.x) > 1:
            ax.set_xlim(self.x[0], self.x[-1])
        # the background: everything but the curve, the value ticks and the size
        line.set_visible(False)
        ax.yaxis.set_visible(False)
        canvas.draw()
        renderer = canvas.get_renderer()
        ax.yaxis.label.draw(renderer)
        background = canvas.copy_from_bbox(fig.bbox)
        line.set_visible(True)
        ax.yaxis.set_visible(True)
        ax.yaxis.label.set_visible(False)  # in the background already
        # the size, right after the title's words, on its baseline
        end = title.get_window_extent(renderer).x1
        x, y = title.get_position()
        at = title.get_transform().inverted().transform((end, 0.0))[0]
        size = ax.text(
            at, y, "", transform=title.get_transform(), fontproperties=title.get_fontproperties()
        )
        size.set_verticalalignment(title.get_verticalalignment())
        return {
            "canvas": canvas,
            "ax": ax,
            "line": line,
            "size": size,
            "background": background,
            "value_lines": _value_lines(ax),
        }

    def draw(self, out_dir: Path, size: int, series: np.ndarray) -> None:
        from PIL import Image

        equity = np.cumsum(series)
        drawdown = equity - np.maximum.accumulate(equity)
        for stem, ys in (("equity_curve", equity), ("drawdown", drawdown)):
            part = self.parts[stem]
            canvas, ax, line = part["canvas"], part["ax"], part["line"]
            line.set_ydata(ys)
            ax.relim()
            ax.autoscale_view(scalex=False)
            part["size"].set_text(f" {size}")
            canvas.restore_region(part["background"])
            renderer = canvas.get_renderer()
            _draw_value_ticks(ax, part["value_lines"], renderer)
            fill = None
            if stem == "drawdown":
                fill = ax.fill_between(self.x, ys, 0.0, color="tab:red", alpha=0.4)
                fill.draw(renderer)
            line.draw(renderer)
            for spine in ax.spines.values():
                spine.draw(renderer)
            part["size"].draw(renderer)
            # opaque figure: RGB holds every pixel (a quarter fewer bytes to compress)
            image = Image.frombuffer(
                "RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
            ).convert("RGB")
            with atomic_path(out_dir / contracts.fill(PICTURES[stem], size=size)) as tmp:
                image.save(tmp, format="png", compress_level=1)
            if fill is not None:
                fill.remove()


def _value_lines(ax: Any) -> tuple[Any, Any]:
    """Two lines standing for every value tick's grid line and tick mark (their styles copied)."""
    from matplotlib.lines import Line2D

    template = ax.yaxis.get_major_ticks()[0]
    grid, marks = Line2D([], []), Line2D([], [])
    grid.update_from(template.gridline)
    grid.set_clip_path(ax.patch)
    marks.update_from(template.tick1line)
    for line in (grid, marks):
        line.set_figure(ax.get_figure())
    return grid, marks


def _draw_value_ticks(ax: Any, lines: tuple[Any, Any], renderer: Any) -> None:
    """The value axis' ticks, labels and horizontal grid, as Axis.draw draws them.

    The grid lines are one line and the tick marks another (one draw each, not
    two per tick), and Axis.draw's measuring of every tick label (only to
    place an offset text, which these values never have) is skipped: a third
    of a picture's time. A formatter that does show an offset gets Axis.draw.
    """
    axis = ax.yaxis
    locs = axis.get_majorticklocs()
    formatter = axis.get_major_formatter()
    labels = formatter.format_ticks(locs)
    if formatter.get_offset():
        axis.draw(renderer)
        return
    low, high = sorted(axis.get_view_interval())
    slack = (high - low) * 1e-10  # matplotlib's own tolerance at the view's ends
    shown = [k for k, loc in enumerate(locs) if low - slack <= loc <= high + slack]
    grid, marks = lines
    ys = np.asarray(locs, dtype=np.float64)[shown]
    grid.set_data(np.tile([0.0, 1.0, np.nan], len(ys)), np.repeat(ys, 3))
    marks.set_data(np.zeros(len(ys)), ys)
    grid.draw(renderer)
    marks.draw(renderer)
    ticks = axis.get_major_ticks(len(locs))
    for k in shown:
        ticks[k].update_position(locs[k])
        ticks[k].label1.set_text(labels[k])
        ticks[k].label1.draw(renderer)


#: The pictures' resolution (8 x 4 inches: 640 x 320 pixels, as before).
DPI = 80
