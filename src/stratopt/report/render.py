"""Filling the Jinja2 template with the collected data: one self-contained HTML file.

Autoescaping is on for the whole template, so every strategy name, path,
config value and frame name is shown as text. Pictures are inline data URIs
(PNG from matplotlib, the flamegraph SVGs as <img>, where no script in them
can run); nothing is fetched from the network.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from stratopt.atomic import write_text
from stratopt.report import charts
from stratopt.report.collect import ReportData, collect

log = logging.getLogger(__name__)
TEMPLATE = "report.html.j2"
FLAMEGRAPH_INLINE_LIMIT = 3_000_000  # bytes of SVG embedded; larger ones are linked only


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


def fmt_pct(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{100.0 * float(value):.{digits}f} %"


def make_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("stratopt", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    env.filters["pct"] = fmt_pct
    return env


def _pictures(data: ReportData, out_dir: Path) -> dict[str, Any]:
    """Every chart as a data URI, and each profile's flamegraph and links."""
    pics: dict[str, Any] = {"stages": None, "equity": None, "histogram": None, "heatmap": None}
    totals = data.stage_totals
    if totals and totals["stages"]:
        names = [s["stage"] for s in totals["stages"]]
        pics["stages"] = charts.stage_bars(
            names, [s["wall_s"] for s in totals["stages"]], [s["cpu_s"] for s in totals["stages"]]
        )
    best = data.best
    if best and best.get("series") is not None:
        pics["equity"] = charts.equity_drawdown(
            best["dates"], best["series"], f"best portfolio: size {best['size']}, {best['method']}"
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
    for row in data.stages:
        prof = row.profile
        if not prof:
            continue
        svg_path: Path = prof["svg_path"]
        prof["svg_href"] = os.path.relpath(svg_path, out_dir)
        prof["speedscope_href"] = (
            os.path.relpath(prof["speedscope_path"], out_dir) if prof["speedscope_path"] else None
        )
        size = svg_path.stat().st_size
        prof["svg_uri"] = (
            charts.svg_data_uri(svg_path.read_text(encoding="utf-8", errors="replace"))
            if size <= FLAMEGRAPH_INLINE_LIMIT
            else None
        )
    return pics


def render_report(data: ReportData, out_path: str | Path) -> str:
    """The HTML text of the report for `data`, to be written at `out_path`."""
    out_dir = Path(out_path).resolve().parent
    pictures = _pictures(data, out_dir)
    template = make_environment().get_template(TEMPLATE)
    return template.render(d=data, pics=pictures)


def write_report(
    results_dir: str | Path, out_path: str | Path, config: dict[str, Any] | None = None
) -> Path:
    """Collect, render and write the report atomically; returns its path."""
    data = collect(results_dir, config)
    html = render_report(data, out_path)
    write_text(out_path, html)
    log.info("report: %s (%d bytes)", out_path, len(html.encode("utf-8")))
    return Path(out_path)


def report_rule(smk: Any) -> None:
    """Snakemake stage: the results folder is the report's own folder."""
    out = Path(str(smk.output[0]))
    write_report(out.parent, out, dict(smk.config))
