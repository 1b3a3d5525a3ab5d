"""The built-in baseline: the legacy optimizer's work, stage by stage, on the reference engine.

- load: pandas' read_csv of the whole file (missing cells -> 0), as the legacy;
- metrics+ULTA: stratopt.engine.reference.apply_ulta, then
  stratopt.engine.reference.strategy_metrics (one strategy at a time) of the
  inverted series, written as the legacy's strategy_metrics.csv;
- correlation: stratopt.engine.reference.correlation_matrix, the dense N x N float64
  matrix (5.2 GB at N = 25,544: that is the legacy's cost);
- search: every algorithm's `legacy` preset loop over ReferenceEvaluator
  (plain reference fitness, pair-by-pair lookups in the dense matrix); its
  set-up rebuilds the dense matrix, untimed (stratopt.bench.timing);
- select/report: the best per size across algorithms, its legacy
  best_portfolio_size{n}.txt and equity/drawdown pictures.

Each function runs in its own child process and hands its result to the next
through files under `work` (NumPy .npy + JSON: cheap next to the work timed).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from stratopt import contracts
from stratopt.data.matrix import Matrix
from stratopt.errors import ConfigError, InputError
from stratopt.runtime.atomic import write_json

LEADING = ("Date", "Zone", "Day")


def save_matrix(matrix: Matrix, folder: Path, stem: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    np.save(folder / f"{stem}.npy", matrix.values)
    meta = {
        "dates": [str(d) for d in matrix.dates],
        "days": matrix.days,
        "names": matrix.names,
        "labels": matrix.labels,
    }
    (folder / f"{stem}.json").write_text(json.dumps(meta), encoding="utf-8")


def load_matrix(folder: Path, stem: str) -> Matrix:
    meta = json.loads((folder / f"{stem}.json").read_text(encoding="utf-8"))
    return Matrix(
        dates=np.array(meta["dates"], dtype="datetime64[D]"),
        days=list(meta["days"]),
        names=list(meta["names"]),
        values=np.load(folder / f"{stem}.npy"),
        labels=list(meta.get("labels") or []),
    )


def load(input: str, work: str) -> dict[str, Any]:
    """pandas.read_csv of the whole file, blanks -> 0 (the legacy's load)."""
    import pandas as pd

    frame = pd.read_csv(input)
    if "Date" not in frame.columns:
        raise InputError(input, "no 'Date' column", line=1)
    names = [c for c in frame.columns if c not in LEADING]
    values = frame[names].fillna(0.0).to_numpy(dtype=np.float64)
    days = frame["Day"].astype(str).tolist() if "Day" in frame.columns else [""] * len(frame)
    matrix = Matrix(
        dates=pd.to_datetime(frame["Date"]).to_numpy().astype("datetime64[D]"),
        days=days,
        names=[str(n) for n in names],
        values=np.ascontiguousarray(values),
        labels=[Path(input).stem] * len(names),  # the legacy's name prefix: the file's stem
    )
    save_matrix(matrix, Path(work), "loaded")
    return {"strategies": matrix.n_strategies, "days": matrix.n_days}


def metrics_ulta(work: str, ulta: bool) -> dict[str, Any]:
    """The ULTA inversion when on, then the per-strategy metrics of the series as the
    search sees them (strategy_metrics.csv in the legacy layout), as the legacy orders it."""
    from stratopt.engine import reference
    from stratopt.legacy.metrics_csv import write_metrics_csv
    from stratopt.legacy.names import legacy_names

    folder = Path(work)
    matrix = load_matrix(folder, "loaded")
    inverted = 0
    if ulta:
        matrix, report = reference.apply_ulta(matrix)
        report.to_csv(folder / "inversion_report.csv", index=False, float_format="%.17g")
        inverted = len(report)
    frame = reference.strategy_metrics(matrix)
    write_metrics_csv(
        contracts.METRICS_CSV.path(folder),
        legacy_names(matrix.names, matrix.labels),
        frame.to_numpy(dtype=np.float64),
    )
    save_matrix(matrix, folder, "prepared")
    return {"inverted": inverted}


def correlation(work: str) -> dict[str, Any]:
    """The dense N x N correlation matrix, as the legacy builds it for its search."""
    from stratopt.engine import reference

    values = np.load(Path(work) / "prepared.npy")
    corr = reference.correlation_matrix(values)
    return {"shape": list(corr.shape), "gigabytes": corr.nbytes / 1e9}


def search(work: str, config: dict[str, Any], sizes: list[int]) -> Callable[[], dict[str, Any]]:
    """Set-up (untimed): the prepared matrix and its dense correlation; then the timed searches."""
    from stratopt.engine import reference

    if config.get("balanced"):
        raise ConfigError("balanced mode is not part of the built-in baseline")
    folder = Path(work)
    matrix = load_matrix(folder, "prepared")
    corr = reference.correlation_matrix(matrix.values)

    def run() -> dict[str, Any]:
        return _search_all(folder, matrix, corr, config, sizes)

    return run


def _search_all(
    folder: Path, matrix: Matrix, corr: np.ndarray, config: dict[str, Any], sizes: list[int]
) -> dict[str, Any]:
    from stratopt.algorithms import load_algorithm
    from stratopt.bench.sidebyside.reference_evaluator import ReferenceEvaluator
    from stratopt.search.settings import OptimizeSettings, size_seed

    settings = OptimizeSettings.from_config(config)
    opt = config["optimize"]
    runs: list[dict[str, Any]] = []
    size_seconds: dict[str, float] = {}
    for size in sizes:
        if size > matrix.n_strategies:
            continue
        start = time.perf_counter()
        for name in opt["algorithms"]:
            ev = ReferenceEvaluator(
                matrix.values,
                corr,
                metric=settings.metric,
                drawdown_threshold=settings.drawdown_threshold,
                drawdown_floor=settings.drawdown_floor,
            )
            rng = np.random.default_rng(size_seed(settings.seed, name, size))
            result = load_algorithm(name).run(
                ev,
                size,
                budget=settings.budget,  # the tuned side's rule (None: legacy counts)
                rng=rng,
                params=settings.search_params(name),
                preset=settings.preset,
            )
            runs.append(
                {
                    "algorithm": name,
                    "size": size,
                    "best": [int(i) for i in result.best],
                    "names": [matrix.names[i] for i in result.best],
                    "fitness": float(result.fitness),
                    "evaluations": int(result.evaluations),
                    "seconds": float(result.seconds),
                }
            )
        size_seconds[str(size)] = time.perf_counter() - start
    write_json(folder / "runs.json", {"runs": runs})
    return {"size_seconds": size_seconds, "evaluations": sum(r["evaluations"] for r in runs)}


def best_per_size(runs: list[dict[str, Any]], algorithms: list[str]) -> dict[int, dict[str, Any]]:
    """The winner of each size (ties go to the algorithm listed first, as in select)."""
    order = {a: i for i, a in enumerate(algorithms)}
    best: dict[int, dict[str, Any]] = {}
    for rec in sorted(runs, key=lambda r: (r["size"], order.get(r["algorithm"], len(order)))):
        cur = best.get(rec["size"])
        if cur is None or rec["fitness"] > cur["fitness"]:
            best[rec["size"]] = rec
    return dict(sorted(best.items()))


def select_report(work: str, config: dict[str, Any]) -> dict[str, Any]:
    """best_portfolio_size{n}.txt (legacy layout, 252 periods a year) and the two pictures per size."""
    from stratopt.engine.portfolio_metrics import LEGACY_PERIODS_PER_YEAR, performance_metrics
    from stratopt.engine.reference import portfolio_series
    from stratopt.legacy.layout import best_portfolio_text
    from stratopt.legacy.names import legacy_names
    from stratopt.runtime.atomic import write_text

    folder = Path(work)
    matrix = load_matrix(folder, "prepared")
    runs = json.loads((folder / "runs.json").read_text(encoding="utf-8"))["runs"]
    out = contracts.LEGACY_DIR.path(folder)
    out.mkdir(parents=True, exist_ok=True)
    winners = best_per_size(runs, list(config["optimize"]["algorithms"]))
    for size, entry in winners.items():
        series = portfolio_series(matrix.values, entry["best"])
        metrics = performance_metrics(series, LEGACY_PERIODS_PER_YEAR)
        written = legacy_names(entry["names"], [matrix.labels[i] for i in entry["best"]])
        text = best_portfolio_text(
            size, entry["algorithm"].upper(), entry["fitness"], metrics, written
        )
        write_text(out / contracts.fill(contracts.LEGACY_BEST, size=size), text)
        draw_pictures(out, size, matrix.dates, series)
    write_json(folder / "best.json", {str(k): v for k, v in winners.items()})
    return {"sizes": len(winners)}


def draw_pictures(out: Path, size: int, dates: np.ndarray, series: np.ndarray) -> None:
    """The legacy's equity-curve and drawdown PNGs: a new figure for each picture, as it does."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    equity = np.cumsum(series)
    drawdown = equity - np.maximum.accumulate(equity)
    x = dates.astype("datetime64[D]").astype("O")
    pictures = {"equity_curve": contracts.LEGACY_EQUITY, "drawdown": contracts.LEGACY_DRAWDOWN}
    for stem, ys in (("equity_curve", equity), ("drawdown", drawdown)):
        fig = Figure(figsize=(8, 4))
        ax = fig.add_subplot(1, 1, 1)
        if stem == "drawdown":
            ax.fill_between(x, ys, 0.0, color="tab:red", alpha=0.4)
        ax.plot(x, ys, linewidth=1.2)
        ax.set_title(f"{stem.replace('_', ' ')}, best portfolio of size {size}")
        ax.grid(True, alpha=0.3)
        fig.autofmt_xdate()
        fig.savefig(out / contracts.fill(pictures[stem], size=size), dpi=80)
