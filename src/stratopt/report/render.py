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

from jinja2 import Environment, PackageLoader, StrictUndefined

import stratopt.report.charts as charts
from stratopt.report.collect import ReportData, collect
from stratopt.runtime.atomic import write_text

log = logging.getLogger(__name__)
TEMPLATE = "report.html.j2"
# Embed the flamegraphs only when all of them together are at most this many
# bytes of SVG: a profiled production run has ~20 at 100-300 KB each, which
# inline (base64) made a 5-8 MB page; linked, the page stays ~0.3 MB.
FLAMEGRAPH_EMBED_TOTAL = 600_000


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


def make_environment() -> Environment:
    env = Environment(
        loader=PackageLoader("stratopt.report", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_num
    env.filters["pct"] = fmt_pct
    env.filters["ratio"] = fmt_ratio
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
    data = collect(results_dir, config)
    pictures = _pictures(data)
    html = render_report(data, out_path, pictures=pictures)
    write_text(out_path, html)
    log.info("report: %s (%d bytes)", out_path, len(html.encode("utf-8")))
    if standalone_path is not None:
        copy = render_report(data, standalone_path, standalone=True, pictures=pictures)
        write_text(standalone_path, copy)
        log.info("report for snakemake --report: %s (%d bytes)", standalone_path, len(copy))
    return Path(out_path)
