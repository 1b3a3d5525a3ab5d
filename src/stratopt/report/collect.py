"""Gathering what a run left under results/{dataset}/ into plain data for the template.

Every section is read from whatever exists: a stage that did not run gives
None (the template then says so), never an error. Files written by other
stages are read by the names in the shared contract; where a file's inner
layout may grow, the readers look for the fields they need and ignore the
rest.
"""

from __future__ import annotations

import glob
import json
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from stratopt.report.machine import git_commit, machine, package_versions
from stratopt.report.validation import collect_choice, collect_search, collect_validation
from stratopt.runtime.stackprofile import StackProfile, from_speedscope, hottest_frames

log = logging.getLogger(__name__)

# The pipeline's stages in order, and the outputs that show each one finished.
STAGES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ingest", ("matrix.parquet", "ingest.json")),
    ("load_db", ("load.json",)),
    ("prepare", ("prepared.parquet",)),
    ("correlation_shard", ("correlation/shard_*.parquet",)),
    ("correlation_summary", ("correlation.json",)),
    ("optimize", ("runs/*.json",)),
    ("validate", ("validation.json",)),
    ("select", ("portfolios.parquet|**/best_portfolio_size*.txt",)),
    ("store_results", ("stored.json",)),
)
# Rules that write a benchmark file but are not stages of the pipeline run:
# `bench` runs a whole side-by-side benchmark (minutes; it would swamp the
# totals), `synth` makes the twin input once, `gpu_probe` looks at the node,
# `chain` runs every stage in one job (each stage writes its own benchmark
# file there, so the chain's own would count them twice).
# They are listed in the report, never summed; every other rule counts.
NOT_PIPELINE_RULES: frozenset[str] = frozenset({"bench", "synth", "gpu_probe", "chain"})
BENCH_COLUMNS = (
    "s",
    "max_rss",
    "max_vms",
    "max_uss",
    "max_pss",
    "io_in",
    "io_out",
    "mean_load",
    "cpu_time",
)
TEXT_LIMIT = 20_000  # characters of a markdown report shown inline


@dataclass
class StageRow:
    """One job's measurements (a rule, or a rule with its wildcards)."""

    key: str  # file stem, e.g. "correlation_shard-3"
    stage: str  # the stage it belongs to, e.g. "correlation_shard"
    wall_s: float | None = None
    cpu_s: float | None = None
    max_rss_mb: float | None = None
    io_in_mb: float | None = None
    io_out_mb: float | None = None
    mean_load: float | None = None
    repeats: int = 0
    profile: dict[str, Any] | None = None

    @property
    def in_pipeline(self) -> bool:
        """Whether this job is a pipeline stage (counted in the totals)."""
        return self.stage not in NOT_PIPELINE_RULES


@dataclass
class ReportData:
    title: str
    results_dir: str
    run: dict[str, Any]
    stages: list[StageRow]
    stage_totals: dict[str, Any] | None
    bench: dict[str, Any] | None
    portfolios: dict[str, Any] | None
    best: dict[str, Any] | None
    ulta: dict[str, Any] | None
    correlation: dict[str, Any] | None
    runs: dict[str, Any] | None
    throughput: dict[str, Any]
    success: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    zones: dict[str, Any] | None = None  # zones.json (select): zone mode and contributions
    validation: dict[str, Any] | None = None  # the out-of-sample result (validate)
    choice: dict[str, Any] | None = None  # how select chose the best overall size, its flags
    search: dict[str, Any] | None = None  # fitness per algorithm and size, convergence


# --- small readers -----------------------------------------------------------


def _read_json(path: Path, notes: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        notes.append(f"{path.name}: unreadable ({exc})")
        return None


def _first(mapping: Mapping[str, Any] | None, *keys: str, default: Any = None) -> Any:
    """The value of the first of `keys` present in `mapping`."""
    if not isinstance(mapping, Mapping):
        return default
    for key in keys:
        if key in mapping and mapping[key] is not None:
            return mapping[key]
    return default


def _num(value: Any) -> float | None:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return None
    return out if math.isfinite(out) or math.isinf(out) else None


def _norm_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


def stage_of(key: str) -> str:
    """The stage a job key belongs to: the longest known stage name it starts with."""
    norm = _norm_key(key)
    known = sorted((name for name, _ in STAGES), key=len, reverse=True)
    for name in [*known, "report", *sorted(NOT_PIPELINE_RULES, key=len, reverse=True)]:
        if norm == name or norm.startswith(name + "_"):
            return name
    return norm or key  # a rule this module does not know: its own name (store_results)


# --- the run -----------------------------------------------------------------


def collect_run(
    results: Path, config: Mapping[str, Any] | None, notes: list[str]
) -> dict[str, Any]:
    ingest = (
        _read_json(results / "ingest.json", notes) if (results / "ingest.json").exists() else None
    )
    sources = []
    summary: dict[str, Any] = {}
    if isinstance(ingest, dict):
        for src in ingest.get("sources") or []:
            if isinstance(src, dict):
                sources.append(
                    {
                        "path": str(src.get("path", "")),
                        "sha256": str(_first(src, "sha256", "checksum", default="")),
                        "bytes": src.get("bytes"),
                    }
                )
        for key in (
            "rows",
            "strategies",
            "first_date",
            "last_date",
            "periods_per_year",
            "blank_cells_total",
        ):
            if key in ingest:
                summary[key] = ingest[key]
        summary["warnings"] = [str(w) for w in (ingest.get("warnings") or [])][:50]
    cfg = dict(config or {})
    seeds = {}
    if cfg:
        seeds = {
            "input.synth_seed": _first(cfg.get("input"), "synth_seed"),
            "optimize.seed": _first(cfg.get("optimize"), "seed"),
        }
    return {
        "ingest": summary if ingest is not None else None,
        "sources": sources,
        "config_yaml": yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None)
        if cfg
        else None,
        "seeds": {k: v for k, v in seeds.items() if v is not None},
        "packages": package_versions(),
        "git_commit": git_commit(),
        "machine": machine(),
    }


# --- stages: benchmark files and profiles --------------------------------------


def read_benchmark_tsv(path: Path) -> dict[str, float | int | None]:
    """Medians over the repeats of a Snakemake benchmark file (NA -> None)."""
    frame = pd.read_csv(path, sep="\t", na_values=["NA", "-", ""])
    out: dict[str, float | int | None] = {"repeats": len(frame)}
    for col in BENCH_COLUMNS:
        if col in frame.columns:
            vals = pd.to_numeric(frame[col], errors="coerce").dropna()
            out[col] = float(vals.median()) if len(vals) else None
        else:
            out[col] = None
    return out


def _bench_key(path: Path, root: Path) -> str:
    rel = path.relative_to(root).with_suffix("")
    return "-".join(rel.parts)


def load_profile(svg: Path) -> dict[str, Any]:
    """A profile's files, its SVG as text and its hottest frames."""
    stem = svg.name[: -len(".svg")]
    speedscope = svg.with_name(f"{stem}.speedscope.json")
    hot: list[dict[str, Any]] = []
    seconds = None
    samples = None
    if speedscope.exists():
        try:
            profile: StackProfile = from_speedscope(
                json.loads(speedscope.read_text(encoding="utf-8"))
            )
            hot = hottest_frames(profile, top=10)
            seconds, samples = profile.seconds, profile.samples
        except (OSError, ValueError, KeyError, IndexError, TypeError) as exc:
            log.warning("profile %s: unreadable (%s)", speedscope, exc)
    return {
        "key": stem,
        "svg_path": svg,
        "speedscope_path": speedscope if speedscope.exists() else None,
        "hot": hot,
        "seconds": seconds,
        "samples": samples,
    }


def collect_stages(results: Path) -> list[StageRow]:
    """One row per benchmark file or profile, matched by normalised name, in stage order."""
    rows: dict[str, StageRow] = {}
    bench_root = results / "benchmarks"
    for path in sorted(bench_root.rglob("*.tsv")) if bench_root.is_dir() else []:
        key = _bench_key(path, bench_root)
        try:
            b = read_benchmark_tsv(path)
        except (OSError, ValueError, pd.errors.ParserError) as exc:
            log.warning("benchmark %s: unreadable (%s)", path, exc)
            continue
        rows[_norm_key(key)] = StageRow(
            key=key,
            stage=stage_of(key),
            wall_s=b["s"],
            cpu_s=b["cpu_time"],
            max_rss_mb=b["max_rss"],
            io_in_mb=b["io_in"],
            io_out_mb=b["io_out"],
            mean_load=b["mean_load"],
            repeats=int(b["repeats"] or 0),
        )
    prof_root = results / "profiles"
    for svg in sorted(prof_root.glob("*.svg")) if prof_root.is_dir() else []:
        profile = load_profile(svg)
        norm = _norm_key(profile["key"])
        row = rows.setdefault(norm, StageRow(key=profile["key"], stage=stage_of(profile["key"])))
        row.profile = profile
    order = {name: i for i, (name, _) in enumerate(STAGES)}
    order["report"] = len(order)
    return sorted(
        rows.values(), key=lambda r: (order.get(r.stage, len(order) + 1), _natural(r.key))
    )


def _natural(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def stage_totals(rows: list[StageRow]) -> dict[str, Any] | None:
    """Per pipeline stage (jobs summed): wall, CPU; the largest peak of its jobs.

    Jobs that are not pipeline stages (the `bench` rule above all: it runs
    a whole benchmark and would swamp the figures) are named in `excluded`.
    """
    counted = [r for r in rows if r.wall_s is not None and r.in_pipeline]
    excluded = [r.key for r in rows if r.wall_s is not None and not r.in_pipeline]
    if not counted:
        return None
    per: dict[str, dict[str, Any]] = {}
    for r in counted:
        agg = per.setdefault(
            r.stage, {"stage": r.stage, "jobs": 0, "wall_s": 0.0, "cpu_s": 0.0, "max_rss_mb": 0.0}
        )
        agg["jobs"] += 1
        agg["wall_s"] += r.wall_s
        agg["cpu_s"] += r.cpu_s or 0.0
        agg["max_rss_mb"] = max(agg["max_rss_mb"], r.max_rss_mb or 0.0)
    stages = list(per.values())
    return {
        "stages": stages,
        "wall_s": sum(s["wall_s"] for s in stages),
        "cpu_s": sum(s["cpu_s"] for s in stages),
        "max_rss_mb": max(s["max_rss_mb"] for s in stages),
        "excluded": excluded,
    }


# --- baseline against tuned (bench.json of the benchmark command) --------------

BENCH_JSON = ("bench.json", "bench/bench.json", "benchmarks/bench.json")


def _measure(entry: Any) -> dict[str, Any]:
    if not isinstance(entry, Mapping):
        return {"wall_s": _num(entry), "cpu_s": None, "peak_rss_mb": None, "runs": None}
    return {
        "wall_s": _num(_first(entry, "wall_s", "median_wall_s", "wall", "s")),
        "cpu_s": _num(_first(entry, "cpu_s", "median_cpu_s", "cpu", "cpu_time")),
        "peak_rss_mb": _num(_first(entry, "peak_rss_mb", "peak_mb", "max_rss_mb", "max_rss")),
        "runs": _first(entry, "runs", "repeats"),
        "extrapolated": bool(entry.get("extrapolated")),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b not in (None, 0.0) else None


def _bench_rows(stages: Any) -> list[dict[str, Any]]:
    if isinstance(stages, Mapping):
        items = [(str(k), v) for k, v in stages.items()]
    elif isinstance(stages, list):
        items = [(str(_first(v, "stage", "name", default=i)), v) for i, v in enumerate(stages)]
    else:
        return []
    rows = []
    for name, entry in items:
        if not isinstance(entry, Mapping):
            continue
        base = _measure(_first(entry, "baseline", "legacy"))
        tuned = _measure(_first(entry, "tuned", "current"))
        given = _first(entry, "ratio", "ratios", "speedup")
        speedup = (
            _num(_first(given, "wall_s", "wall")) if isinstance(given, Mapping) else _num(given)
        )
        rows.append(
            {
                "stage": name,
                "baseline": base,
                "tuned": tuned,
                "speedup": speedup
                if speedup is not None
                else _ratio(base["wall_s"], tuned["wall_s"]),
                "cpu_ratio": _ratio(base["cpu_s"], tuned["cpu_s"]),
                "memory_ratio": _ratio(base["peak_rss_mb"], tuned["peak_rss_mb"]),
                "extrapolated": bool(base.get("extrapolated") or tuned.get("extrapolated")),
                "total": False,
            }
        )
    return rows


def _bench_targets(targets: Any) -> list[dict[str, Any]]:
    """bench.json's `targets`: name, target, measured, met (per-stage detail left out)."""
    if not isinstance(targets, Mapping):
        return []
    return [
        {
            "name": str(name),
            "target": _num(t.get("target")),
            "measured": _num(t.get("measured")),
            "met": t.get("met"),
            "above": str(name).endswith("per_s"),  # a rate must exceed its target
        }
        for name, t in targets.items()
        if isinstance(t, Mapping)
    ]


def _bench_side(doc: Mapping[str, Any], side: str) -> dict[str, Any] | None:
    entry = doc.get(side)
    if not isinstance(entry, Mapping):
        return None
    return {k: entry.get(k) for k in ("kind", "label", "repeats") if entry.get(k) is not None}


def collect_bench(results: Path, notes: list[str]) -> dict[str, Any] | None:
    """The benchmark command's bench.json (schema stratopt-bench/1, docs/benchmark.md).

    Rows: each stage, the total, and totals without a stage
    (`total_without_<stage>`); plus the workload, both sides' labels, the
    targets, the equivalence verdict and the notes. Unknown fields are ignored.
    """
    path = next((results / p for p in BENCH_JSON if (results / p).exists()), None)
    if path is None:
        return None
    doc = _read_json(path, notes)
    if not isinstance(doc, Mapping):
        return None
    schema = doc.get("schema")
    if schema is not None and not str(schema).startswith("stratopt-bench/"):
        notes.append(
            f"{path.name}: schema {schema!r}, not stratopt-bench/*; read as far as it goes"
        )
    rows = _bench_rows(_first(doc, "stages", "per_stage", default={}))
    totals = {"total": _first(doc, "total", "overall")}
    for key, value in doc.items():
        if str(key).startswith("total_without") and isinstance(value, Mapping):
            label = value.get("without") or str(key)[len("total_without_") :]
            totals[f"total without {label}"] = value
    for name, entry in totals.items():
        if isinstance(entry, Mapping):
            for row in _bench_rows({name: entry}):
                row["total"] = True
                rows.append(row)
    scalars = {k: v for k, v in doc.items() if isinstance(v, (str, int, float, bool))}
    source = doc.get("input") if isinstance(doc.get("input"), Mapping) else {}
    extrapolation = doc.get("extrapolation")
    snakemake = doc.get("snakemake") if isinstance(doc.get("snakemake"), Mapping) else None
    summary = snakemake.get("summary") if snakemake else None
    return {
        "path": str(path),
        "rows": rows,
        "meta": scalars,
        "schema": schema,
        "workload": doc.get("workload"),
        "description": doc.get("description"),
        "created": doc.get("created"),
        "input_path": source.get("path"),
        "input_bytes": source.get("bytes"),
        "strategies": doc.get("strategies"),
        "days": doc.get("days"),
        "baseline": _bench_side(doc, "baseline"),
        "tuned": _bench_side(doc, "tuned"),
        "speedup": _num(doc.get("speedup")),
        "cpu_speedup": _num(doc.get("cpu_speedup")),
        "equivalence_passed": doc.get("equivalence_passed"),
        "extrapolated": bool(doc.get("extrapolated")),
        "extrapolation_method": extrapolation.get("method")
        if isinstance(extrapolation, Mapping)
        else None,
        "targets": _bench_targets(doc.get("targets")),
        "snakemake_wall_s": _num(summary.get("wall_s")) if isinstance(summary, Mapping) else None,
        "snakemake_cores": snakemake.get("cores") if snakemake else None,
        "notes": [str(n) for n in doc.get("notes") or [] if isinstance(n, str)],
    }


# --- results: portfolios, best overall, ULTA, correlation, runs ---------------


def parse_best_portfolio_txt(path: Path) -> dict[str, Any]:
    """A best_portfolio_size{n}.txt (stratopt.legacy.layout): size, method, fitness, metrics, names.

    Names as written (the legacy's file-stem prefix included); a file that is
    not in the layout gives size None (the caller skips it).
    """
    from stratopt.legacy.layout import as_record, read_text

    try:
        record = as_record(read_text(path))
    except (OSError, ValueError, KeyError):
        return {"size": None, "method": None, "fitness": None, "metrics": {}, "strategies": []}
    return {k: record[k] for k in ("size", "method", "fitness", "metrics", "strategies")}


_SIZE_COLS = ("size", "n", "portfolio_size")
_METHOD_COLS = ("algorithm", "method", "winner")
_NAMES_COLS = ("strategies", "names", "strategy_names")


def _portfolios_from_parquet(path: Path) -> list[dict[str, Any]]:
    frame = pd.read_parquet(path)
    cols = {c.lower(): c for c in frame.columns}
    size_col = next((cols[c] for c in _SIZE_COLS if c in cols), None)
    fit_col = cols.get("fitness")
    if size_col is None or fit_col is None:
        raise ValueError(f"no size/fitness columns in {list(frame.columns)}")
    method_col = next((cols[c] for c in _METHOD_COLS if c in cols), None)
    names_col = next((cols[c] for c in _NAMES_COLS if c in cols), None)
    chosen_col = cols.get("best_overall")
    flags_col = cols.get("flags")
    metric_cols = [
        c
        for c in frame.columns
        if c not in (size_col, fit_col, method_col, names_col)
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    # one row per size is the contract; should several algorithms share a size, keep the fittest
    frame = frame.sort_values(fit_col, ascending=False, kind="stable").drop_duplicates(size_col)
    rows = []
    for rec in frame.sort_values(size_col).to_dict("records"):
        names = rec.get(names_col) if names_col else None
        rows.append(
            {
                "size": int(rec[size_col]),
                "method": str(rec[method_col]) if method_col else "",
                "fitness": _num(rec[fit_col]),
                "metrics": {c: _num(rec[c]) for c in metric_cols},
                "strategies": [str(s) for s in names] if names is not None else [],
                "best_overall": bool(rec[chosen_col]) if chosen_col else False,
                "flags": [f for f in str(rec[flags_col] or "").split("; ") if f]
                if flags_col
                else [],
            }
        )
    return rows


def collect_portfolios(results: Path, notes: list[str]) -> dict[str, Any] | None:
    rows: list[dict[str, Any]] = []
    source = None
    parquet = results / "portfolios.parquet"
    if parquet.exists():
        try:
            rows = _portfolios_from_parquet(parquet)
            source = "portfolios.parquet"
        except (OSError, ValueError, KeyError) as exc:
            notes.append(f"portfolios.parquet: {exc}")
    if not rows:
        for txt in sorted(
            results.rglob("best_portfolio_size*.txt"), key=lambda p: _natural(p.name)
        ):
            parsed = parse_best_portfolio_txt(txt)
            if parsed["size"] is not None:
                rows.append(parsed)
        source = "best_portfolio_size*.txt" if rows else None
    if not rows:
        return None
    metric_names: list[str] = []
    for r in rows:
        for k in r["metrics"]:
            if k not in metric_names:
                metric_names.append(k)
    return {"source": source, "rows": rows, "metric_names": metric_names}


def _strategy_series(results: Path, names: list[str]) -> tuple[np.ndarray, np.ndarray] | None:
    """The equal-weight portfolio series of `names` from prepared (or ingested) data."""
    from stratopt.data.matrix import read_matrix
    from stratopt.legacy.names import clean_name

    for candidate in ("prepared.parquet", "matrix.parquet"):
        path = results / candidate
        if not path.exists():
            continue
        matrix = read_matrix(path)
        index = {name: i for i, name in enumerate(matrix.names)}
        found = (clean_name(n, index) for n in names)  # legacy files: stem prefix
        cols = [index[n] for n in found if n in index]
        if len(cols) == len(names) and cols:
            return matrix.dates, matrix.values[:, cols].mean(axis=1)
    return None


def collect_best(results: Path, portfolios: dict[str, Any] | None) -> dict[str, Any] | None:
    if not portfolios:
        return None
    scored = [r for r in portfolios["rows"] if r["fitness"] is not None]
    if not scored:
        return None
    # select's choice (never the largest fitness: docs/validation.md); else, for old
    # outputs without the column, the largest fitness as the legacy chose
    chosen = [r for r in scored if r.get("best_overall")]
    best = chosen[0] if chosen else max(scored, key=lambda r: r["fitness"])
    out = dict(best)
    out["dates"] = None
    out["series"] = None
    if best["strategies"]:
        found = _strategy_series(results, best["strategies"])
        if found is not None:
            out["dates"], out["series"] = found
    return out


def collect_ulta(
    results: Path, config: Mapping[str, Any] | None, notes: list[str]
) -> dict[str, Any] | None:
    parquet = results / "inversion.parquet"
    markdown = results / "inversion_report.md"
    if not parquet.exists() and not markdown.exists():
        if config is not None and config.get("ulta") is False:
            return {"disabled": True}
        return None
    out: dict[str, Any] = {"disabled": False, "rows": [], "count": None, "markdown": None}
    if parquet.exists():
        try:
            frame = pd.read_parquet(parquet)
            out["count"] = len(frame)
            if {"original_roi", "inverted_roi"} <= set(frame.columns):
                out["roi_gain"] = float((frame["inverted_roi"] - frame["original_roi"]).sum())
                top = frame.sort_values("inverted_roi", ascending=False, kind="stable").head(15)
            else:
                top = frame.head(15)
            out["columns"] = [str(c) for c in top.columns]
            out["rows"] = [[_cell(v) for v in rec] for rec in top.itertuples(index=False)]
        except (OSError, ValueError) as exc:
            notes.append(f"inversion.parquet: {exc}")
    strategies = _read_ingest_count(results)
    if strategies and out["count"] is not None:
        out["share"] = out["count"] / strategies
    if markdown.exists():
        text = markdown.read_text(encoding="utf-8", errors="replace")
        out["markdown"] = text[:TEXT_LIMIT] + ("\n... (cut)" if len(text) > TEXT_LIMIT else "")
    return out


def _cell(value: Any) -> Any:
    if isinstance(value, (float, np.floating)):
        return float(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    return str(value)


def _read_ingest_count(results: Path) -> int | None:
    path = results / "ingest.json"
    if not path.exists():
        return None
    try:
        return int(json.loads(path.read_text(encoding="utf-8")).get("strategies"))
    except (OSError, ValueError, TypeError):
        return None


def collect_correlation(results: Path, notes: list[str]) -> dict[str, Any] | None:
    path = results / "correlation.json"
    shards = sorted(glob.glob(str(results / "correlation" / "shard_*.parquet")))
    if not path.exists():
        return {"shards": len(shards), "summary": False} if shards else None
    doc = _read_json(path, notes)
    if not isinstance(doc, Mapping):
        return None
    hist = _first(doc, "histogram", "hist", default={})
    edges = _first(hist, "edges", "bin_edges", "bins")
    counts = _first(hist, "counts", "count")
    # correlation_summary writes windows {labels, mean_r}; older drafts used window_heatmap
    heat = _first(doc, "windows", "window_heatmap", "heatmap", default={})
    matrix = _first(heat, "mean_r", "matrix", "mean", "values")
    windows = _first(heat, "labels", "windows", default=[])
    dup = _first(doc, "near_duplicates", "near_duplicate_groups", default=[])
    groups_raw = _first(dup, "members", "groups", default=[]) if isinstance(dup, Mapping) else dup
    groups = [
        [
            str(s)
            for s in (g if isinstance(g, list) else _first(g, "members", "strategies", default=[]))
        ]
        for g in (groups_raw if isinstance(groups_raw, list) else [])
    ]
    groups.sort(key=len, reverse=True)
    top = _first(doc, "top_pairs", default=[])
    if isinstance(top, Mapping):
        top = _first(top, "positive", "by_r", default=[])
    above = _above(_first(doc, "thresholds", "above", "counts_above", default={}))
    return {
        "summary": True,
        "shards": len(shards) or _first(doc, "shards"),
        "n_strategies": _first(doc, "n_strategies", "strategies"),
        "n_pairs": _first(doc, "pairs", "n_pairs"),
        "mean_r": _num(_first(doc, "mean", "mean_r")),
        "hist_edges": list(map(float, edges)) if edges is not None else None,
        "hist_counts": list(map(float, counts)) if counts is not None else None,
        "above": above,
        "heatmap": np.asarray(matrix, dtype=float) if matrix is not None else None,
        "windows": [str(w) for w in windows],
        "groups": groups,
        "group_count": len(groups),
        "grouped_strategies": sum(len(g) for g in groups),
        "top_pairs": [_pair(p) for p in list(top)[:15]],
    }


def _above(entries: Any) -> dict[str, Any]:
    """|r| threshold -> pairs at or above it, from a list of records or a mapping."""
    if isinstance(entries, Mapping):
        return {str(k): v for k, v in entries.items()}
    out = {}
    for e in entries if isinstance(entries, list) else []:
        if isinstance(e, Mapping) and "pairs" in e:
            out[str(_first(e, "abs_r_at_least", "threshold", default="?"))] = e["pairs"]
    return out


def _pair(p: Any) -> dict[str, Any]:
    if isinstance(p, Mapping):
        return {
            "a": str(_first(p, "a", "i", "first", "left", default="")),
            "b": str(_first(p, "b", "j", "second", "right", default="")),
            "r": _num(_first(p, "r", "corr", "value")),
        }
    seq = list(p)
    return {"a": str(seq[0]), "b": str(seq[1]), "r": _num(seq[2]) if len(seq) > 2 else None}


def _size_records(doc: Any) -> list[dict[str, Any]]:
    """Per-size records of a runs/{algorithm}.json, whichever way they are nested."""
    entries = (
        _first(doc, "sizes", "results", "runs", default=None) if isinstance(doc, Mapping) else doc
    )
    if isinstance(entries, Mapping):
        return [{"size": k, **v} for k, v in entries.items() if isinstance(v, Mapping)]
    if isinstance(entries, list):
        return [e for e in entries if isinstance(e, Mapping)]
    return [doc] if isinstance(doc, Mapping) and "fitness" in doc else []


def collect_runs(results: Path, notes: list[str]) -> dict[str, Any] | None:
    files = sorted((results / "runs").glob("*.json")) if (results / "runs").is_dir() else []
    if not files:
        return None
    rows = []
    convergence: dict[str, dict[int, Any]] = {}  # algorithm -> size -> [[evals, best], ...]
    for path in files:
        doc = _read_json(path, notes)
        records = _size_records(doc)
        name = (
            str(_first(doc, "algorithm", "name", default=path.stem))
            if isinstance(doc, Mapping)
            else path.stem
        )
        convergence[name] = {
            int(r["size"]): r["convergence"]
            for r in records
            if r.get("convergence") and "size" in r
        }
        fits = [f for f in (_num(r.get("fitness")) for r in records) if f is not None]
        evals = sum(int(_num(r.get("evaluations")) or 0) for r in records)
        secs = sum(_num(_first(r, "seconds", "wall_s")) or 0.0 for r in records)
        rows.append(
            {
                "algorithm": name,
                "sizes": len(records),
                "best_fitness": max(fits) if fits else None,
                "evaluations": evals,
                "seconds": secs,
                "evals_per_s": evals / secs if secs > 0 else None,
            }
        )
    return {
        "rows": rows,
        "evaluations": sum(r["evaluations"] for r in rows),
        "seconds": sum(r["seconds"] for r in rows),
        "convergence": convergence,
    }


def collect_zones(results: Path, notes: list[str]) -> dict[str, Any] | None:
    """zones.json as the select stage wrote it (stratopt.selection.zones), or None."""
    path = results / "zones.json"
    if not path.exists():
        return None
    doc = _read_json(path, notes)
    return doc if isinstance(doc, dict) else None


# --- throughput and success ----------------------------------------------------


def _exists(results: Path, pattern: str) -> bool:
    return any(glob.glob(str(results / alt), recursive=True) for alt in pattern.split("|"))


def activated_stages(config: Mapping[str, Any] | None) -> list[str]:
    """The stages the config asks for (correlation can be switched off)."""
    names = [name for name, _ in STAGES]
    corr = (config or {}).get("correlation") or {}
    if corr.get("enabled") is False:
        names = [n for n in names if not n.startswith("correlation")]
    if ((config or {}).get("validation") or {}).get("enabled") is False:
        names = [n for n in names if n != "validate"]
    return names


def collect_success(results: Path, config: Mapping[str, Any] | None) -> dict[str, Any]:
    wanted = activated_stages(config)
    rows = []
    for name, patterns in STAGES:
        if name not in wanted:
            continue
        done = all(_exists(results, p) for p in patterns)
        rows.append({"stage": name, "finished": done, "outputs": " + ".join(patterns)})
    finished = sum(r["finished"] for r in rows)
    return {
        "rows": rows,
        "finished": finished,
        "expected": len(rows),
        "rate": finished / len(rows) if rows else 0.0,
    }


def collect_throughput(
    results: Path,
    totals: dict[str, Any] | None,
    runs: dict[str, Any] | None,
    bench: dict[str, Any] | None,
) -> dict[str, Any]:
    strategies = _read_ingest_count(results)
    wall = totals["wall_s"] if totals else None
    out: dict[str, Any] = {
        "strategies": strategies,
        "pipeline_wall_s": wall,
        "strategies_per_s": strategies / wall if strategies and wall else None,
        "evaluations": runs["evaluations"] if runs else None,
        "evaluations_per_s": (runs["evaluations"] / runs["seconds"])
        if runs and runs["seconds"]
        else None,
        "bench": None,
    }
    if bench:
        out["bench"] = _first(bench["meta"], "strategies_per_s", "throughput")
    return out


# --- everything ------------------------------------------------------------------


def collect(
    results_dir: str | Path, config: Mapping[str, Any] | None = None, title: str | None = None
) -> ReportData:
    """Everything the report shows, from whatever exists under `results_dir`."""
    results = Path(results_dir)
    notes: list[str] = []
    stages = collect_stages(results)
    totals = stage_totals(stages)
    bench = collect_bench(results, notes)
    portfolios = collect_portfolios(results, notes)
    runs = collect_runs(results, notes)
    best = collect_best(results, portfolios)
    cfg_title = _first((config or {}).get("report"), "title")
    return ReportData(
        title=title or cfg_title or "stratopt run report",
        results_dir=str(results),
        run=collect_run(results, config, notes),
        stages=stages,
        stage_totals=totals,
        bench=bench,
        portfolios=portfolios,
        best=best,
        ulta=collect_ulta(results, config, notes),
        correlation=collect_correlation(results, notes),
        runs=runs,
        throughput=collect_throughput(results, totals, runs, bench),
        success=collect_success(results, config),
        notes=notes,
        zones=collect_zones(results, notes),
        validation=collect_validation(results, notes),
        choice=collect_choice(results, notes),
        search=collect_search(
            results, best["size"] if best else None, (runs or {}).get("convergence") or {}, notes
        ),
    )
