"""Filling the Jinja2 template with the collected data: one self-contained HTML file.

Autoescaping is on for the whole template, so every strategy name, path,
config value and frame name is shown as text. Charts are inline PNG data
URIs; nothing is fetched from the network. Flamegraphs are embedded (as
<img> data URIs, where no script in them can run) only while all of them
together stay small; otherwise each is a relative link to profiles/*.svg
beside the report, and the report keeps each stage's hottest-frames table.

The copy for `snakemake --report` (`standalone`) links to no other file:
flamegraphs are embedded by the same rule, and otherwise left to their own
entries of Snakemake's report, which the page names (docs/report.md).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

import numpy as np
from jinja2 import Environment, FileSystemBytecodeCache, PackageLoader, StrictUndefined

import stratopt.report.charts as charts
from stratopt.report.collect import ReportData, collect
from stratopt.runtime import rule_params
from stratopt.runtime.atomic import write_text

log = logging.getLogger(__name__)
TEMPLATE = "report.html.j2"
# Embed the flamegraphs only when all of them together are at most this many
# bytes of SVG: a profiled production run has ~20 at 100-300 KB each, which
# inline (base64) made a 5-8 MB page; linked, the page stays ~0.3 MB.
FLAMEGRAPH_EMBED_TOTAL = 600_000
#: The unit of every P&L figure (the data is in rupees), in the report and its charts.
CURRENCY = "₹"
#: How each figure the stages write is shown, by its name: rupees, a fraction shown as
#: a percentage, a count, a rate with one decimal, text; any other number is a ratio.
METRIC_KINDS: dict[str, str] = {
    **dict.fromkeys(
        (
            "total_roi",
            "roi",
            "max_drawdown",
            "expectancy",
            "annualized_return",
            "mean_pnl",
            "std",
            "original_roi",
            "inverted_roi",
            "original_worst_day",
            "inverted_worst_day",
            "contribution",
            "roi_gain",
        ),
        "money",
    ),
    **dict.fromkeys(("win_percentage", "win_rate", "share", "survival"), "pct"),
    **dict.fromkeys(
        ("evaluations", "size", "sessions", "strategies", "rows", "inverted", "blank_cells_total"),
        "int",
    ),
    "periods_per_year": "rate",
    **dict.fromkeys(("first_date", "last_date", "strategy"), "text"),
}
METRIC_LABELS: dict[str, str] = {
    "total_roi": "ROI",
    "max_drawdown": "max drawdown",
    "win_percentage": "win rate",
    "profit_factor": "profit factor",
    "expectancy": "expectancy (per session)",
    "sharpe_ratio": "Sharpe ratio",
    "sortino_ratio": "Sortino ratio",
    "annualized_return": "annualised return",
    "guarded_fitness": "guarded fitness",
    "original_roi": "ROI before",
    "inverted_roi": "ROI inverted",
    "original_worst_day": "worst session before",
    "inverted_worst_day": "worst session inverted",
    "original_ratio": "ratio before",
    "inverted_ratio": "ratio inverted",
    "rows": "sessions (rows)",
    "first_date": "first session",
    "last_date": "last session",
    "periods_per_year": "periods per year (from the dates)",
    "blank_cells_total": "blank cells (read as 0)",
}


def fmt_num(value: Any, digits: int = 2) -> str:
    """Numbers for people: thousands separators, fixed digits, a dash for none."""
    if value is None:
        return "—"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(x):
        return "n/a"
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    return f"{x:,.{digits}f}"


def fmt_ratio(value: Any) -> str:
    """A speedup: one decimal from 1x up, two significant digits below (0.013x, not 0.0x)."""
    if value is None:
        return "—"
    x = float(value)
    if not math.isfinite(x):
        return fmt_num(x)
    return f"{x:,.1f}×" if x >= 1.0 else f"{x:.2g}×"


def fmt_pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{100.0 * float(value):.{digits}f} %"


def _number(value: Any) -> float | str:
    """The value as a finite float, or the text to show instead (dash, n/a, infinity)."""
    if value is None:
        return "—"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    return x if math.isfinite(x) else fmt_num(x)


def fmt_int(value: Any) -> str:
    """A count: 1,001 (never 1,001.000)."""
    x = _number(value)
    return x if isinstance(x, str) else f"{round(x):,d}"


def fmt_money(value: Any) -> str:
    """P&L in rupees: ₹32,308, -₹1,845; paise only below ₹10 (a 1-rupee threshold reads ₹1.00)."""
    x = _number(value)
    if isinstance(x, str):
        return x
    digits = 2 if 0 < abs(x) < 10 else 0
    return f"{'-' if x < 0 else ''}{CURRENCY}{abs(x):,.{digits}f}"


def fmt_score(value: Any) -> str:
    """A fitness or ratio: three significant figures or more (17.39, 0.210, 1,234.5)."""
    x = _number(value)
    if isinstance(x, str):
        return x
    size = abs(x)
    if size >= 100:
        return f"{x:,.1f}"
    if size >= 1 or size == 0:
        return f"{x:.2f}"
    return f"{x:.3f}" if size >= 0.001 else f"{x:.2e}"


def fmt_metric(value: Any, name: str) -> str:
    """A figure formatted by what its name says it is (rupees, a rate, a count, a ratio)."""
    kind = METRIC_KINDS.get(name)
    if kind == "money":
        return fmt_money(value)
    if kind == "pct":
        return fmt_pct(value)
    if kind == "int" or (isinstance(value, (int, np.integer)) and not isinstance(value, bool)):
        return fmt_int(value)
    if kind == "rate":
        return fmt_num(value, 1)
    if kind == "text" or isinstance(value, str):
        return "—" if value is None else str(value)
    return fmt_score(value)


def metric_label(name: str) -> str:
    """A column or metric name for people: total_roi -> ROI (the cells carry the unit)."""
    return METRIC_LABELS.get(name, name.replace("_", " "))


def make_environment() -> Environment:
    """The report's Jinja2 environment. Its compiled template is cached in the temporary
    folder (jinja2's per-user default, checked against the template's source): compiling
    report.html.j2 cost each report job about 0.15 s of CPU."""
    env = Environment(
        loader=PackageLoader("stratopt.report", "templates"),
        bytecode_cache=FileSystemBytecodeCache(),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    env.filters["pct"] = fmt_pct
    env.filters["ratio"] = fmt_ratio
    env.filters["int"] = fmt_int
    env.filters["money"] = fmt_money
    env.filters["score"] = fmt_score
    env.filters["metric"] = fmt_metric
    env.filters["label"] = metric_label
    return env


def _pictures(data: ReportData) -> dict[str, Any]:
    """Every chart as a data URI."""
    pics: dict[str, Any] = {"stages": None, "equity": None, "histogram": None, "heatmap": None}
    pics.update(_answer_pictures(data))
    totals = data.stage_totals
    if totals and totals["stages"]:
        names = [s["stage"] for s in totals["stages"]]
        pics["stages"] = charts.stage_bars(
            names, [s["wall_s"] for s in totals["stages"]], [s["cpu_s"] for s in totals["stages"]]
        )
    best = data.best
    if best and best.get("series") is not None:
        pics["equity"] = charts.equity_drawdown(
            best["dates"],
            best["series"],
            f"IN SAMPLE (hindsight, ULTA decided on all sessions): size {best['size']}, "
            f"{best['method']}: not a performance record",
        )
    corr = data.correlation
    if corr and corr.get("hist_counts"):
        pics["histogram"] = charts.histogram(corr["hist_edges"] or [], corr["hist_counts"])
    if (
        corr
        and corr.get("heatmap") is not None
        and corr["heatmap"].ndim == 2
        and corr["heatmap"].size
    ):
        pics["heatmap"] = charts.heatmap(corr["heatmap"], corr["windows"])
    return pics


def _profiles(data: ReportData, out_dir: Path, standalone: bool) -> dict[str, Any]:
    """Each profile's flamegraph (embedded or not) and its links (none when standalone)."""
    profiles = [row.profile for row in data.stages if row.profile]
    sizes = [prof["svg_path"].stat().st_size for prof in profiles]
    embed = sum(sizes) <= FLAMEGRAPH_EMBED_TOTAL
    for prof in profiles:
        linked = not standalone
        prof["svg_href"] = _href(prof["svg_path"], out_dir) if linked else None
        prof["speedscope_href"] = (
            _href(prof["speedscope_path"], out_dir) if linked and prof["speedscope_path"] else None
        )
        prof["svg_uri"] = (
            charts.svg_data_uri(prof["svg_path"].read_text(encoding="utf-8", errors="replace"))
            if embed
            else None
        )
    return {
        "flamegraphs_embedded": embed,
        "flamegraph_bytes": sum(sizes),
        "standalone": standalone,
    }


def _answer_pictures(data: ReportData) -> dict[str, Any]:
    """The out-of-sample charts and the convergence curves."""
    pics: dict[str, Any] = {"oos": None, "random": None, "convergence": None}
    val = data.validation
    if val and val.get("series"):
        series = val["series"]
        pics["oos"] = charts.oos_equity(
            series["dates"],
            series["pick"],
            series["naive"],
            series["fold_starts"],
            f"out of sample: size {val['size']}, test sessions stitched across "
            f"{len(series['fold_starts'])} folds",
        )
    if val:
        pooled = val["pooled"]
        hist = (pooled.get("random") or {}).get("histogram") or {}
        if hist.get("counts"):
            others = {
                label: pooled[key]["roi"]
                for key, label in (
                    ("top_roi", "top-n by training ROI"),
                    ("top_ratio", "top-n by training ratio"),
                )
                if isinstance(pooled.get(key), dict)
            }
            pics["random"] = charts.random_distribution(
                hist["edges"], hist["counts"], pooled["roi"], others
            )
    search = data.search
    if search and search.get("curves"):
        pics["convergence"] = charts.convergence(
            search["curves"], f"search on all sessions, size {search['curve_size']}"
        )
    return pics


def _href(path: Path, out_dir: Path) -> str:
    """A relative URL from the report's folder (forward slashes, as a link wants)."""
    return quote(Path(os.path.relpath(Path(path).resolve(), out_dir)).as_posix())


def render_report(
    data: ReportData,
    out_path: str | Path,
    *,
    standalone: bool = False,
    pictures: dict[str, Any] | None = None,
) -> str:
    """The HTML text of the report for `data`, to be written at `out_path`.

    standalone: the copy for `snakemake --report`, which links to no other file.
    pictures: the charts, when already drawn for another copy of the same data.
    """
    out_dir = Path(out_path).resolve().parent
    pics = dict(pictures if pictures is not None else _pictures(data))
    pics.update(_profiles(data, out_dir, standalone))
    template = make_environment().get_template(TEMPLATE)
    return template.render(d=data, pics=pics)


def write_report(
    results_dir: str | Path,
    out_path: str | Path,
    config: dict[str, Any] | None = None,
    standalone_path: str | Path | None = None,
) -> Path:
    """Collect, render and write the report atomically; returns its path.

    standalone_path: also write the self-contained copy there (same data, same charts).
    """
    # only the settings that applied to this run (the report rule's params are already so)
    data = collect(results_dir, rule_params.report(config) if config else config)
    pictures = _pictures(data)
    html = render_report(data, out_path, pictures=pictures)
    write_text(out_path, html)
    log.info("report: %s (%d bytes)", out_path, len(html.encode("utf-8")))
    if standalone_path is not None:
        copy = render_report(data, standalone_path, standalone=True, pictures=pictures)
        write_text(standalone_path, copy)
        log.info("report for snakemake --report: %s (%d bytes)", standalone_path, len(copy))
    return Path(out_path)
