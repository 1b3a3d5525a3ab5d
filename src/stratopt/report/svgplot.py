"""A small SVG plotting surface for the report's charts (stratopt.report.charts).

Why not matplotlib: in the report job its import (0.6 s) and the drawing of
seven PNG charts (1.2 s) were two thirds of the job's CPU, and the report is
the last job of every run (docs/performance.md, "The report's charts and the
select stage's pictures without matplotlib"). The charts need lines, steps,
areas, bars, reference lines, a raster heatmap, axes with round-number,
power-of-ten or calendar ticks and a legend: a few SVG elements each, written
as text. Coordinates are rounded to 0.1 px, so the same data gives the same
bytes; text is escaped; nothing is fetched.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from html import escape

import numpy as np

from stratopt.report.ticks import Scale, Tick

FONT = "DejaVu Sans, Verdana, Arial, sans-serif"
GRID = "#d5dae0"
INK = "#222222"
#: A series of data values: a list or a NumPy array.
Values = Sequence[float] | np.ndarray


def _n(v: float) -> str:
    text = f"{v:.1f}"
    return "0" if text in ("0.0", "-0.0") else text.removesuffix(".0")


def text_width(text: str, size: float) -> float:
    """An estimate of a label's width in px (no font metrics: 0.62 em per character)."""
    return 0.62 * size * len(text)


def svg_data_uri(svg_text: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg_text.encode("utf-8")).decode("ascii")


def _along(pts: np.ndarray, spacing: float = 3.0) -> np.ndarray:
    """Points every `spacing` px along a polyline: a line between two far vertices counts too."""
    if len(pts) < 2:
        return pts
    steps = np.maximum(1, np.ceil(np.hypot(*np.diff(pts, axis=0).T) / spacing)).astype(int)
    t = np.concatenate([np.arange(k) / k for k in steps])
    start = np.repeat(pts[:-1], steps, axis=0)
    delta = np.repeat(np.diff(pts, axis=0), steps, axis=0)
    return np.vstack([start + delta * t[:, None], pts[-1:]])


class Figure:
    """An SVG canvas of width x height px."""

    def __init__(self, width: float, height: float) -> None:
        self.width, self.height = width, height
        self.parts: list[str] = []
        self._clips = 0

    def text(
        self,
        x: float,
        y: float,
        s: str,
        *,
        size: float = 12,
        anchor: str = "start",
        rotate: float | None = None,
        colour: str = INK,
    ) -> None:
        turn = f' transform="rotate({_n(rotate)} {_n(x)} {_n(y)})"' if rotate else ""
        self.parts.append(
            f'<text x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" '
            f'fill="{colour}"{turn}>{escape(str(s))}</text>'
        )

    def panel(
        self, left: float, top: float, width: float, height: float, x: Scale, y: Scale
    ) -> Panel:
        self._clips += 1
        return Panel(self, left, top, width, height, x, y, f"c{self._clips}")

    def svg(self) -> str:
        head = (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(self.width)}" '
            f'height="{_n(self.height)}" viewBox="0 0 {_n(self.width)} {_n(self.height)}" '
            f'font-family="{FONT}"><rect width="100%" height="100%" fill="#ffffff"/>'
        )
        return head + "".join(self.parts) + "</svg>"

    def data_uri(self) -> str:
        return svg_data_uri(self.svg())


class Panel:
    """One set of axes: data drawn through its scales, clipped to its box."""

    def __init__(
        self,
        fig: Figure,
        left: float,
        top: float,
        width: float,
        height: float,
        x: Scale,
        y: Scale,
        clip: str,
    ) -> None:
        self.fig, self.left, self.top, self.width, self.height = fig, left, top, width, height
        self.x, self.y, self.clip = x, y, clip
        # the drawn data in px, for the legend's placement: vertices, and boxes (bars, rules)
        self.points: list[np.ndarray] = []
        self.boxes: list[tuple[float, float, float, float]] = []
        fig.parts.append(
            f'<clipPath id="{clip}"><rect x="{_n(left)}" y="{_n(top)}" width="{_n(width)}" '
            f'height="{_n(height)}"/></clipPath>'
        )

    def px(self, v: float) -> float:
        return self.left + self.x.unit(float(v)) * self.width

    def py(self, v: float) -> float:
        return self.top + (1.0 - self.y.unit(float(v))) * self.height

    def _path(self, xs: Values, ys: Values) -> str:
        pts = [
            (self.px(a), self.py(b))
            for a, b in zip(xs, ys, strict=True)
            if np.isfinite(a) and np.isfinite(b)
        ]
        if pts:
            self.points.append(_along(np.asarray(pts)))
        return " ".join(f"{_n(a)},{_n(b)}" for a, b in pts)

    def _add(self, element: str) -> None:
        self.fig.parts.append(f'<g clip-path="url(#{self.clip})">{element}</g>')

    def line(
        self,
        xs: Values,
        ys: Values,
        colour: str,
        width: float = 1.5,
        dash: str | None = None,
    ) -> None:
        style = f' stroke-dasharray="{dash}"' if dash else ""
        self._add(
            f'<polyline points="{self._path(xs, ys)}" fill="none" stroke="{colour}" '
            f'stroke-width="{_n(width)}" stroke-linejoin="round"{style}/>'
        )

    def step(self, xs: Values, ys: Values, colour: str, width: float = 1.5) -> None:
        """A step curve: each value holds until the next x (matplotlib's where='post')."""
        if len(xs) == 0:
            return
        sx = np.repeat(np.asarray(xs, dtype=float), 2)[1:]
        sy = np.repeat(np.asarray(ys, dtype=float), 2)[:-1]
        self.line(sx, sy, colour, width)

    def area(
        self,
        xs: Values,
        ys: Values,
        colour: str,
        opacity: float,
        base: float = 0.0,
    ) -> None:
        if len(xs) == 0:
            return
        ring_x = np.concatenate([[xs[0]], xs, [xs[-1]]])
        ring_y = np.concatenate([[base], ys, [base]])
        self._add(
            f'<polygon points="{self._path(ring_x, ring_y)}" fill="{colour}" fill-opacity="{opacity}"/>'
        )

    def stairs(self, counts: Values, edges: Values, colour: str, opacity: float = 1.0) -> None:
        """A filled histogram: counts[i] over [edges[i], edges[i + 1]] (from the axis' bottom)."""
        base = self.y.lo
        xs = np.repeat(np.asarray(edges, dtype=float), 2)
        ys = np.concatenate([[base], np.repeat(np.asarray(counts, dtype=float), 2), [base]])
        ys = np.where(ys > base, ys, base)
        for x0, x1, c in zip(edges[:-1], edges[1:], counts, strict=True):
            if c > base:
                top = self.py(float(c))
                self.boxes.append(
                    (self.px(float(x0)), top, self.px(float(x1)), self.top + self.height)
                )
        self._add(
            f'<polygon points="{self._path(xs, ys)}" fill="{colour}" fill-opacity="{opacity}"/>'
        )

    def hbar(self, y: float, x0: float, x1: float, thickness: float, colour: str) -> None:
        """A horizontal bar of `thickness` data units centred on y."""
        top, bottom = self.py(y - thickness / 2), self.py(y + thickness / 2)
        a, b = sorted((self.px(x0), self.px(x1)))
        top, bottom = sorted((top, bottom))
        self.boxes.append((a, top, b, bottom))
        self._add(
            f'<rect x="{_n(a)}" y="{_n(top)}" width="{_n(b - a)}" height="{_n(bottom - top)}" fill="{colour}"/>'
        )

    def vline(self, x: float, colour: str, width: float = 1.0, dash: str | None = None) -> None:
        self.boxes.append(
            (self.px(x) - width, self.top, self.px(x) + width, self.top + self.height)
        )
        self._rule(self.px(x), self.top, self.px(x), self.top + self.height, colour, width, dash)

    def note(self, x: float, text: str, *, size: float = 10, colour: str = "#555555") -> None:
        """A label just right of data x, at the top of the box (a fold's start)."""
        at = self.px(x) + 3
        self.boxes.append((at, self.top + 2, at + text_width(text, size), self.top + 4 + size))
        self.fig.text(at, self.top + 2 + size, text, size=size, colour=colour)

    def hline(self, y: float, colour: str, width: float = 1.0, dash: str | None = None) -> None:
        self._rule(self.left, self.py(y), self.left + self.width, self.py(y), colour, width, dash)

    def _rule(
        self,
        x0: float,
        y0: float,
        x1: float,
        y1: float,
        colour: str,
        width: float,
        dash: str | None,
    ) -> None:
        style = f' stroke-dasharray="{dash}"' if dash else ""
        self._add(
            f'<line x1="{_n(x0)}" y1="{_n(y0)}" x2="{_n(x1)}" y2="{_n(y1)}" stroke="{colour}" '
            f'stroke-width="{_n(width)}"{style}/>'
        )

    def image(self, png_uri: str) -> None:
        """A raster filling the box, its pixels kept square-edged (a heatmap's cells)."""
        self.fig.parts.append(
            f'<image x="{_n(self.left)}" y="{_n(self.top)}" width="{_n(self.width)}" '
            f'height="{_n(self.height)}" preserveAspectRatio="none" style="image-rendering:pixelated" '
            f'href="{png_uri}"/>'
        )

    def frame(
        self,
        xticks: Sequence[Tick] = (),
        yticks: Sequence[Tick] = (),
        *,
        grid: str = "xy",
        rotate_x: bool = False,
        size: float = 11,
        y_side: str = "left",
        x_labels: bool = True,
    ) -> None:
        """Grid lines, the box, tick marks and labels."""
        fig, right, bottom = self.fig, self.left + self.width, self.top + self.height
        for v, label in xticks:
            x = self.px(v)
            if "x" in grid:
                self._rule(x, self.top, x, bottom, GRID, 0.8, None)
            fig.parts.append(
                f'<line x1="{_n(x)}" y1="{_n(bottom)}" x2="{_n(x)}" y2="{_n(bottom + 4)}" stroke="{INK}"/>'
            )
            if not x_labels:
                continue
            if rotate_x:
                fig.text(x + size / 3, bottom + 7, label, size=size, anchor="end", rotate=-90)
            else:
                fig.text(x, bottom + 6 + size, label, size=size, anchor="middle")
        for v, label in yticks:
            y = self.py(v)
            if "y" in grid:
                self._rule(self.left, y, right, y, GRID, 0.8, None)
            edge, out = (self.left, -1) if y_side == "left" else (right, 1)
            fig.parts.append(
                f'<line x1="{_n(edge)}" y1="{_n(y)}" x2="{_n(edge + 4 * out)}" y2="{_n(y)}" stroke="{INK}"/>'
            )
            anchor = "end" if out < 0 else "start"
            fig.text(edge + 7 * out, y + size / 3, label, size=size, anchor=anchor)
        fig.parts.append(
            f'<rect x="{_n(self.left)}" y="{_n(self.top)}" width="{_n(self.width)}" '
            f'height="{_n(self.height)}" fill="none" stroke="{INK}" stroke-width="0.8"/>'
        )

    def xlabel(self, text: str, size: float = 12, below: float = 36) -> None:
        self.fig.text(
            self.left + self.width / 2,
            self.top + self.height + below,
            text,
            size=size,
            anchor="middle",
        )

    def ylabel(self, text: str, size: float = 12, left_of: float = 60) -> None:
        x, y = self.left - left_of, self.top + self.height / 2
        self.fig.text(x, y, text, size=size, anchor="middle", rotate=-90)

    def title(self, text: str, size: float = 13) -> None:
        self.fig.text(self.left + self.width / 2, self.top - 8, text, size=size, anchor="middle")

    def legend(self, entries: Sequence[tuple[str, str, str | None]], *, size: float = 10) -> None:
        """(label, colour, dash) per entry, in the corner where the least is drawn.

        dash: None (a solid line), an SVG dash array, or "fill" (a swatch, for bars and areas).
        """
        if not entries:
            return
        w = 52 + max(text_width(label, size) for label, _, _ in entries)
        h = len(entries) * (size + 6) + 8
        x0, y0 = self._corner(w, h)
        self.fig.parts.append(
            f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(w)}" height="{_n(h)}" fill="#ffffff" '
            f'fill-opacity="0.85" stroke="{GRID}"/>'
        )
        for k, entry in enumerate(entries):
            self._key(x0 + 6, y0 + 4 + k * (size + 6) + (size + 6) / 2, entry, size)

    def legend_below(
        self, entries: Sequence[tuple[str, str, str | None]], at: float, *, size: float = 10
    ) -> float:
        """The entries in rows from `at` px below the box (where data is dense everywhere);
        returns the y of the last row's bottom, for the figure's height."""
        x, y = self.left, self.top + self.height + at + size / 2
        for entry in entries:
            w = 44 + text_width(entry[0], size)
            if x + w > self.left + self.width and x > self.left:
                x, y = self.left, y + size + 8
            self._key(x, y, entry, size)
            x += w
        return y + size / 2 + 4

    def _key(self, cx: float, cy: float, entry: tuple[str, str, str | None], size: float) -> None:
        """One legend entry: its line or swatch, centred on cy, and its label."""
        label, colour, dash = entry
        if dash == "fill":
            self.fig.parts.append(
                f'<rect x="{_n(cx + 4)}" y="{_n(cy - 5)}" width="16" height="10" fill="{colour}"/>'
            )
        else:
            style = f' stroke-dasharray="{dash}"' if dash else ""
            self.fig.parts.append(
                f'<line x1="{_n(cx)}" y1="{_n(cy)}" x2="{_n(cx + 24)}" y2="{_n(cy)}" '
                f'stroke="{colour}" stroke-width="2"{style}/>'
            )
        self.fig.text(cx + 30, cy + size / 3, label, size=size)

    def _corner(self, w: float, h: float) -> tuple[float, float]:
        """The box's corner (upper left, upper right, lower left, lower right) over the fewest points."""
        pts = np.concatenate(self.points) if self.points else np.empty((0, 2))
        pad = 6.0
        right, bottom = self.left + self.width, self.top + self.height
        corners = [
            (self.left + pad, self.top + pad),
            (right - w - pad, self.top + pad),
            (self.left + pad, bottom - h - pad),
            (right - w - pad, bottom - h - pad),
        ]

        def covered(c: tuple[float, float]) -> int:
            x, y = c
            inside = (
                (pts[:, 0] >= x) & (pts[:, 0] <= x + w) & (pts[:, 1] >= y) & (pts[:, 1] <= y + h)
            )
            hidden = sum(a < x + w and b > x and t < y + h and u > y for a, t, b, u in self.boxes)
            return int(inside.sum()) + 100 * hidden

        return min(corners, key=covered)  # the first of equals: upper left first
