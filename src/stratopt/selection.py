"""The select stage: the best portfolio per size across algorithms, and the best overall.

Reads every runs/{algorithm}.json and the prepared matrix; writes
- portfolios.parquet: one row per size (winning algorithm, fitness, indices,
  names, the eight performance metrics with the dates' own periods a year);
- summary.json: the same per size plus every algorithm's fitness, the wins per
  algorithm and the best overall;
- a folder with the legacy's outputs: best_portfolio_size{n}.txt (legacy
  layout, 252 periods a year so the figures compare with the legacy's),
  optimization_summary.txt, equity_curve_size{n}.png and drawdown_size{n}.png.
Ties between algorithms go to the one listed first in the configuration.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from stratopt.atomic import atomic_path, write_json, write_text
from stratopt.errors import InputError
from stratopt.matrix import Matrix, read_matrix
from stratopt.performance import (
    LEGACY_PERIODS_PER_YEAR,
    PERFORMANCE_KEYS,
    performance_metrics,
)

log = logging.getLogger(__name__)

METRIC_KEYS = PERFORMANCE_KEYS


def load_run(path: str | Path) -> dict[str, Any]:
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(path, f"cannot read the run: {exc}") from exc
    except ValueError as exc:
        raise InputError(path, f"not valid JSON: {exc}") from exc
    for key in ("algorithm", "sizes"):
        if key not in doc:
            raise InputError(path, f"not an optimize run (no {key!r})")
    return doc


def best_per_size(runs: Sequence[Mapping[str, Any]]) -> dict[int, dict[str, Any]]:
    """size -> the winning record (with 'algorithm' and every algorithm's fitness)."""
    best: dict[int, dict[str, Any]] = {}
    for run in runs:
        name = run["algorithm"]
        for rec in run["sizes"]:
            size = int(rec["size"])
            entry = best.setdefault(size, {"by_algorithm": {}})
            entry["by_algorithm"][name] = float(rec["fitness"])
            if "fitness" not in entry or rec["fitness"] > entry["fitness"]:
                entry.update(
                    size=size,
                    algorithm=name,
                    fitness=float(rec["fitness"]),
                    best=[int(i) for i in rec["best"]],
                    evaluations=int(rec["evaluations"]),
                )
    return dict(sorted(best.items()))


def portfolio_series(matrix: Matrix, indices: Sequence[int]) -> np.ndarray:
    """The equal-weight portfolio's P&L per day (float64, T)."""
    return matrix.values[:, np.asarray(indices, dtype=np.int64)].mean(axis=1)


def _finite(x: float) -> float | None:
    return float(x) if math.isfinite(x) else None


def legacy_report(
    size: int, entry: Mapping[str, Any], metrics: Mapping[str, float], names: Sequence[str]
) -> str:
    """best_portfolio_size{n}.txt in the legacy's layout."""
    lines = [
        f"Best Portfolio (Size {size}) - Method: {entry['algorithm'].upper()}",
        f"Fitness: {entry['fitness']:.6f}",
        "",
        "Performance Metrics:",
    ]
    lines += [f"  {key}: {metrics[key]:.6f}" for key in METRIC_KEYS]
    lines += ["", "Strategies:"]
    lines += [f"{i}. {name}" for i, name in enumerate(names, start=1)]
    return "\n".join(lines) + "\n"


def summary_text(
    settings: Mapping[str, Any],
    algorithms: Sequence[str],
    winners: Mapping[int, Mapping[str, Any]],
    overall: Mapping[str, Any],
    names: Sequence[str],
) -> str:
    """optimization_summary.txt: the parameters, the winner per size, the best overall."""
    lines = ["Optimization Summary", "====================", "", "Parameters:"]
    lines += [f"  {k}: {v}" for k, v in settings.items() if k != "extra"]
    lines += [f"  algorithms: {', '.join(a.upper() for a in algorithms)}", "", "Best per size:"]
    lines += [
        f"  size {size}: {w['algorithm'].upper()} fitness {w['fitness']:.6f}"
        for size, w in winners.items()
    ]
    lines += [
        "",
        "Best Overall Portfolio:",
        f"  Size: {overall['size']}",
        f"  Method: {overall['algorithm'].upper()}",
        f"  Fitness: {overall['fitness']:.6f}",
        "  Strategies:",
    ]
    lines += [f"    {i}. {name}" for i, name in enumerate(names, start=1)]
    return "\n".join(lines) + "\n"


class Pictures:
    """equity_curve_size{n}.png and drawdown_size{n}.png (the legacy's two pictures per size).

    Every size has the same dates, so each figure's unchanging part (frame,
    date axis with its ticks and labels, vertical grid) is drawn once and kept
    as a pixel buffer; a picture restores it and draws only what depends on
    the portfolio: the curve, the value axis (ticks, labels, grid) and the
    title, then encodes the buffer as an RGB PNG with zlib level 1. Text layout was
    most of matplotlib's cost per picture and the default PNG compression
    (level 6) about a third of the rest (docs/algorithms.md has the figures).
    """

    def __init__(self, dates: np.ndarray) -> None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.dates as mdates
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        self.x = mdates.date2num(dates.astype("datetime64[D]"))
        self.parts: dict[str, dict[str, Any]] = {}
        for stem, colour in (("equity_curve", "tab:blue"), ("drawdown", "tab:red")):
            fig = Figure(figsize=(8, 4), dpi=DPI)
            canvas = FigureCanvasAgg(fig)
            fig.subplots_adjust(left=0.12, right=0.97, top=0.9, bottom=0.12)
            ax = fig.add_subplot(1, 1, 1)
            locator = mdates.AutoDateLocator()
            ax.xaxis.set_major_locator(locator)
            ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
            ax.set_ylabel("P&L")
            ax.grid(True, alpha=0.3)
            (line,) = ax.plot(self.x, np.zeros_like(self.x), color=colour, linewidth=1.2)
            if len(self.x) > 1:
                ax.set_xlim(self.x[0], self.x[-1])
            # the background: everything but the curve, the value axis and the title
            line.set_visible(False)
            ax.yaxis.set_visible(False)
            canvas.draw()
            background = canvas.copy_from_bbox(fig.bbox)
            line.set_visible(True)
            ax.yaxis.set_visible(True)
            self.parts[stem] = {
                "fig": fig,
                "canvas": canvas,
                "ax": ax,
                "line": line,
                "background": background,
            }

    def draw(self, out_dir: Path, size: int, series: np.ndarray) -> None:
        from PIL import Image

        equity = np.cumsum(series)
        drawdown = equity - np.maximum.accumulate(equity)
        for stem, ys, title in (
            ("equity_curve", equity, f"Equity curve, best portfolio of size {size}"),
            ("drawdown", drawdown, f"Drawdown, best portfolio of size {size}"),
        ):
            part = self.parts[stem]
            canvas, ax, line = part["canvas"], part["ax"], part["line"]
            line.set_ydata(ys)
            ax.relim()
            ax.autoscale_view(scalex=False)
            ax.set_title(title)
            canvas.restore_region(part["background"])
            renderer = canvas.get_renderer()
            ax.yaxis.draw(renderer)  # value ticks, labels and horizontal grid
            fill = None
            if stem == "drawdown":
                fill = ax.fill_between(self.x, ys, 0.0, color="tab:red", alpha=0.4)
                fill.draw(renderer)
            line.draw(renderer)
            for spine in ax.spines.values():
                spine.draw(renderer)
            ax.title.draw(renderer)
            # opaque figure: RGB holds every pixel (a quarter fewer bytes to compress)
            image = Image.frombuffer(
                "RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1
            ).convert("RGB")
            with atomic_path(out_dir / f"{stem}_size{size}.png") as tmp:
                image.save(tmp, format="png", compress_level=1)
            if fill is not None:
                fill.remove()


#: The pictures' resolution (8 x 4 inches: 640 x 320 pixels, as before).
DPI = 80


def select(
    matrix_path: str | Path,
    run_paths: Sequence[str | Path],
    portfolios_path: str | Path,
    summary_path: str | Path,
    legacy_dir: str | Path,
    *,
    pictures: bool = True,
) -> dict[str, Any]:
    """Pick the winners and write every output; returns the summary document."""
    matrix = read_matrix(matrix_path)
    runs = [load_run(p) for p in run_paths]
    if not runs:
        raise InputError(str(legacy_dir), "select needs at least one optimize run")
    for path, run in zip(run_paths, runs, strict=True):
        if run.get("n_strategies", matrix.n_strategies) != matrix.n_strategies:
            raise InputError(
                path,
                f"the run searched {run['n_strategies']} strategies, the matrix holds "
                f"{matrix.n_strategies}",
            )
    algorithms = [r["algorithm"] for r in runs]
    winners = best_per_size(runs)
    if not winners:
        raise InputError(str(run_paths[0]), "no portfolio sizes in the runs")
    ppy = matrix.periods_per_year()
    legacy_dir = Path(legacy_dir)
    legacy_dir.mkdir(parents=True, exist_ok=True)

    pics = Pictures(matrix.dates) if pictures else None
    rows: list[dict[str, Any]] = []
    for size, entry in winners.items():
        names = [matrix.names[i] for i in entry["best"]]
        series = portfolio_series(matrix, entry["best"])
        legacy_metrics = performance_metrics(series, LEGACY_PERIODS_PER_YEAR)
        metrics = performance_metrics(series, ppy)
        write_text(
            legacy_dir / f"best_portfolio_size{size}.txt",
            legacy_report(size, entry, legacy_metrics, names),
        )
        if pics is not None:
            pics.draw(legacy_dir, size, series)
        rows.append({**entry, "names": names, "metrics": metrics})

    overall = max(rows, key=lambda r: r["fitness"])  # first of equal sizes wins: smallest size
    write_text(
        legacy_dir / "optimization_summary.txt",
        summary_text(runs[0].get("settings", {}), algorithms, winners, overall, overall["names"]),
    )
    _write_parquet(rows, portfolios_path, overall["size"], ppy)
    wins: dict[str, int] = dict.fromkeys(algorithms, 0)
    for r in rows:
        wins[r["algorithm"]] += 1
    summary = {
        "periods_per_year": ppy,
        "metric": runs[0].get("settings", {}).get("metric"),
        "preset": runs[0].get("preset"),
        "algorithms": algorithms,
        "wins": wins,
        "best_overall": _public(overall),
        "sizes": [_public(r) for r in rows],
        "legacy_outputs": str(legacy_dir),
    }
    write_json(summary_path, summary)
    log.info(
        "select: %d sizes; best overall size %d by %s, fitness %.6g",
        len(rows),
        overall["size"],
        overall["algorithm"],
        overall["fitness"],
    )
    return summary


def _public(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "size": row["size"],
        "algorithm": row["algorithm"],
        "fitness": row["fitness"],
        "fitness_by_algorithm": row["by_algorithm"],
        "evaluations": row["evaluations"],
        "indices": row["best"],
        "names": row["names"],
        "metrics": {k: _finite(v) for k, v in row["metrics"].items()},
    }


def _write_parquet(
    rows: Sequence[Mapping[str, Any]], path: str | Path, best_size: int, ppy: float
) -> None:
    columns: dict[str, Any] = {
        "size": pa.array([r["size"] for r in rows], type=pa.int32()),
        "algorithm": pa.array([r["algorithm"] for r in rows], type=pa.string()),
        "fitness": pa.array([r["fitness"] for r in rows], type=pa.float64()),
        "best_overall": pa.array([r["size"] == best_size for r in rows], type=pa.bool_()),
        "evaluations": pa.array([r["evaluations"] for r in rows], type=pa.int64()),
        "indices": pa.array([r["best"] for r in rows], type=pa.list_(pa.int32())),
        "names": pa.array([r["names"] for r in rows], type=pa.list_(pa.string())),
    }
    for key in METRIC_KEYS:
        columns[key] = pa.array([r["metrics"][key] for r in rows], type=pa.float64())
    table = pa.table(columns).replace_schema_metadata(
        {b"stratopt": json.dumps({"periods_per_year": ppy}).encode()}
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def select_rule(smk: Any) -> None:
    """Rule `select`: all runs -> portfolios.parquet, summary.json, the legacy folder."""
    select(
        smk.input.matrix,
        list(smk.input.runs),
        smk.output.portfolios,
        smk.output.summary,
        smk.output.legacy,
    )
