"""The select stage's legacy pictures: equity_curve_size{n}.png and drawdown_size{n}.png.

Drawn with Pillow, not matplotlib: on the default run (66 sizes, 132
pictures) matplotlib's import and figure set-up cost the select job 0.8-0.9 s
of CPU and each picture 27-28 ms; here 0.05 s and 13 ms (docs/performance.md,
"The report's charts and the select stage's pictures without matplotlib").
Each picture is drawn at twice its size and halved (anti-aliased lines and
text); every part that does not depend on the portfolio (frame, date axis,
vertical grid, axis label, the title but its size) is drawn once per figure
and copied; the value axis and the curve are drawn per picture. Ticks come
from stratopt.report.ticks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from stratopt import contracts
from stratopt.report import ticks
from stratopt.runtime.atomic import atomic_path
from stratopt.runtime.scheduling import PICTURE_THREADS_FROM_SIZES

PICTURES = {"equity_curve": contracts.LEGACY_EQUITY, "drawdown": contracts.LEGACY_DRAWDOWN}
#: The pictures' size in pixels (as before: 8 x 4 inches at 80 dpi) and the drawing scale.
WIDTH, HEIGHT, SCALE = 640, 320, 2
#: The axes' box in picture pixels: left, top, right, bottom.
BOX = (77, 32, 621, 282)
INK, GRID = (0, 0, 0), (225, 225, 225)
COLOURS = {"equity_curve": (31, 119, 180), "drawdown": (214, 39, 40)}
#: The drawdown's area: its colour at 40 % over white.
FILL = (239, 169, 169)
TITLES = {"equity_curve": "Equity curve", "drawdown": "Drawdown"}


def _font(size: float) -> Any:
    from PIL import ImageFont

    return ImageFont.load_default(size=size * SCALE)  # FreeType: Pillow's bundled font


class Pictures:
    """Both pictures of every size: the same dates, so one background per figure."""

    def __init__(self, dates: np.ndarray) -> None:
        days = np.asarray(dates).astype("datetime64[D]").astype(np.int64).astype(float)
        self.days = days if len(days) else np.zeros(1)
        lo, hi = float(self.days[0]), float(self.days[-1])
        self.xlim = (lo, hi) if hi > lo else (lo - 1.0, hi + 1.0)
        self.label_font, self.title_font = _font(10), _font(12)
        self.title_end: dict[str, float] = {}  # where each figure's size goes after its title
        self.backgrounds = {stem: self._background(stem) for stem in PICTURES}

    def _px(self, x: np.ndarray | float) -> np.ndarray:
        lo, hi = self.xlim
        return (BOX[0] + (np.asarray(x, dtype=float) - lo) / (hi - lo) * (BOX[2] - BOX[0])) * SCALE

    def _background(self, stem: str) -> Any:
        """Frame, date ticks and labels, vertical grid, the value axis' label, the title's words."""
        from PIL import Image, ImageDraw

        image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), "white")
        draw = ImageDraw.Draw(image)
        left, top, right, bottom = (v * SCALE for v in BOX)
        lo, hi = self.xlim
        for day, label in ticks.date_ticks(int(np.ceil(lo)), int(np.floor(hi)), 9):
            x = float(self._px(day))
            draw.line([(x, top), (x, bottom)], fill=GRID, width=SCALE)
            draw.line([(x, bottom), (x, bottom + 4 * SCALE)], fill=INK, width=SCALE)
            draw.text((x, bottom + 7 * SCALE), label, font=self.label_font, fill=INK, anchor="mt")
        axis_label = Image.new("RGB", (40 * SCALE, 16 * SCALE), "white")
        ImageDraw.Draw(axis_label).text(
            (20 * SCALE, 8 * SCALE), "P&L", font=self.label_font, fill=INK, anchor="mm"
        )
        rotated = axis_label.rotate(90, expand=True)
        image.paste(rotated, (8 * SCALE, (top + bottom) // 2 - rotated.height // 2))
        title = f"{TITLES[stem]}, best portfolio of size "
        draw.text((left, top - 6 * SCALE), title, font=self.title_font, fill=INK, anchor="ls")
        self.title_end[stem] = left + draw.textlength(title, font=self.title_font)
        return image

    def draw(self, out_dir: Path, size: int, series: np.ndarray) -> None:
        """Both pictures of one size's winner, written atomically."""
        equity = np.cumsum(series)
        drawdown = equity - np.maximum.accumulate(equity)
        for stem, ys in (("equity_curve", equity), ("drawdown", drawdown)):
            image = self._picture(stem, ys, size)
            # opaque: RGB holds every pixel; zlib level 1 (level 6: a third more time, ~15 % fewer bytes)
            with atomic_path(out_dir / contracts.fill(PICTURES[stem], size=size)) as tmp:
                image.reduce(SCALE).save(tmp, format="png", compress_level=1)

    def _picture(self, stem: str, ys: np.ndarray, size: int) -> Any:
        """The figure's background with this curve, its value axis and its size drawn on it."""
        from PIL import ImageDraw

        image = self.backgrounds[stem].copy()
        draw = ImageDraw.Draw(image)
        lo, hi = ticks.limits(ys)
        left, top, right, bottom = (v * SCALE for v in BOX)
        xs, ys_px = self._px(self.days[: len(ys)]), _py(ys, lo, hi)
        if stem == "drawdown" and len(ys):
            zero = float(_py(0.0, lo, hi))
            inner = zip(xs.tolist(), ys_px.tolist(), strict=True)
            draw.polygon([(float(xs[0]), zero), *inner, (float(xs[-1]), zero)], fill=FILL)
        for v, label in ticks.linear_ticks(lo, hi, 6):
            y = float(_py(v, lo, hi))
            draw.line([(left, y), (right, y)], fill=GRID, width=SCALE)
            draw.line([(left - 4 * SCALE, y), (left, y)], fill=INK, width=SCALE)
            draw.text((left - 7 * SCALE, y), label, font=self.label_font, fill=INK, anchor="rm")
        if len(ys) > 1:
            points = list(zip(xs.tolist(), ys_px.tolist(), strict=True))
            draw.line(points, fill=COLOURS[stem], width=3 * SCALE // 2, joint="curve")
        elif len(ys) == 1:
            x, y, r = float(xs[0]), float(ys_px[0]), 2 * SCALE
            draw.ellipse([(x - r, y - r), (x + r, y + r)], fill=COLOURS[stem])
        draw.rectangle([(left, top), (right, bottom)], outline=INK, width=SCALE)
        title_at = (self.title_end[stem], top - 6 * SCALE)
        draw.text(title_at, str(size), font=self.title_font, fill=INK, anchor="ls")
        return image


def _py(v: np.ndarray | float, lo: float, hi: float) -> np.ndarray:
    """Values on [lo, hi] to the drawing's pixel rows (the box's bottom at lo)."""
    return (BOX[3] - (np.asarray(v, dtype=float) - lo) / (hi - lo) * (BOX[3] - BOX[1])) * SCALE


def draw_all(
    dates: np.ndarray, out_dir: Path, winners: list[tuple[int, np.ndarray]], threads: int = 1
) -> None:
    """Both pictures of every (size, P&L series), on up to `threads` threads.

    Each thread takes a contiguous run of sizes with Pictures of its own (its
    own fonts: FreeType faces are not shared between threads); Pillow draws,
    halves and encodes mostly without the GIL, so two threads draw the
    default run's 132 pictures in about 0.85 s against 1.5 s. Every picture
    is the same bytes whatever the thread count.
    """
    threads = max(1, min(threads, len(winners) // (PICTURE_THREADS_FROM_SIZES // 2)))
    if threads == 1:
        pictures = Pictures(dates)
        for size, series in winners:
            pictures.draw(out_dir, size, series)
        return
    from concurrent.futures import ThreadPoolExecutor

    step = -(-len(winners) // threads)
    runs = [winners[k : k + step] for k in range(0, len(winners), step)]
    with ThreadPoolExecutor(len(runs)) as pool:
        for done in [pool.submit(draw_all, dates, out_dir, run) for run in runs]:
            done.result()  # a failure in a thread fails the stage
