"""bench.json and its table (bench.md): the shape is documented in docs/benchmark.md.

Keep the shape stable: stratopt.contracts.BENCH lists what its readers rely on
(the run report's stratopt.report.sections.bench reads it through that contract).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Any

SCHEMA = "stratopt-bench/1"
STAGES = ("load", "metrics+ULTA", "correlation", "search", "select/report")
MEASURES = ("wall_s", "cpu_s", "peak_rss_mb")


def side_summary(samples: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Medians over the repetitions of one stage on one side (None when not run)."""
    if not samples:
        return None
    walls = [s["wall_s"] for s in samples]
    return {
        "runs": len(samples),
        "wall_s": statistics.median(walls),
        "cpu_s": statistics.median(s["cpu_s"] for s in samples),
        "peak_rss_mb": statistics.median(s["peak_rss_mb"] for s in samples),
        "wall_min_s": min(walls),
        "wall_max_s": max(walls),
        "extrapolated": any(s.get("extrapolated") for s in samples),
        "samples": [dict(s) for s in samples],
    }


def ratios(
    base: Mapping[str, Any] | None, tuned: Mapping[str, Any] | None
) -> dict[str, float | None]:
    """baseline / tuned for each measure (None where either is missing or tuned is 0)."""
    out: dict[str, float | None] = {}
    for key in MEASURES:
        a = base.get(key) if base else None
        b = tuned.get(key) if tuned else None
        out[key] = a / b if a is not None and b else None
    return out


def repetition_totals(reps: Sequence[Mapping[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """One whole-run sample per repetition: wall and CPU summed over stages, peak the largest."""
    out = []
    for rep in reps:
        if not rep:
            continue
        samples = list(rep.values())
        out.append(
            {
                "wall_s": sum(s["wall_s"] for s in samples),
                "cpu_s": sum(s["cpu_s"] for s in samples),
                "peak_rss_mb": max(s["peak_rss_mb"] for s in samples),
                "extrapolated": any(s.get("extrapolated") for s in samples),
            }
        )
    return out


def stage_table(
    baseline: Sequence[Mapping[str, Mapping[str, Any]]],
    tuned: Sequence[Mapping[str, Mapping[str, Any]]],
    baseline_total: Sequence[Mapping[str, Any]] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(stages, total) of bench.json from per-repetition {stage: sample} maps.

    `baseline_total` replaces the baseline's summed total (an external command
    is timed only as a whole).
    """
    stages: dict[str, Any] = {}
    for stage in STAGES:
        b = side_summary([rep[stage] for rep in baseline if stage in rep])
        t = side_summary([rep[stage] for rep in tuned if stage in rep])
        if b is None and t is None:
            continue
        stages[stage] = {"baseline": b, "tuned": t, "ratio": ratios(b, t)}
    b_total = side_summary(list(baseline_total) if baseline_total else repetition_totals(baseline))
    t_total = side_summary(repetition_totals(tuned))
    return stages, {"baseline": b_total, "tuned": t_total, "ratio": ratios(b_total, t_total)}


def total_without(
    baseline: Sequence[Mapping[str, Mapping[str, Any]]],
    tuned: Sequence[Mapping[str, Mapping[str, Any]]],
    stage: str,
    baseline_total: Sequence[Mapping[str, Any]] | None = None,
) -> dict[str, Any] | None:
    """The baseline's whole run against the tuned run without one of its stages.

    For the correlation analysis: the tuned search computes its correlation
    penalty from normalised columns and does not need the all-pairs analysis,
    while the legacy's search needs its dense matrix; so "baseline total vs
    tuned total without the analysis" is the cost of the same portfolios.
    """
    if not any(stage in rep for rep in tuned):
        return None
    trimmed = [{k: v for k, v in rep.items() if k != stage} for rep in tuned]
    b = side_summary(list(baseline_total) if baseline_total else repetition_totals(baseline))
    t = side_summary(repetition_totals(trimmed))
    return {"without": stage, "baseline": b, "tuned": t, "ratio": ratios(b, t)}


def target_checks(
    targets: Mapping[str, float],
    strategies: int,
    stages: Mapping[str, Any],
    total: Mapping[str, Any],
) -> dict[str, Any]:
    """The users' targets against the tuned side's medians."""
    tuned_total = total["tuned"] or {}
    wall = tuned_total.get("wall_s")
    load = (stages.get("load", {}).get("tuned") or {}).get("wall_s")
    peaks = {k: v["tuned"]["peak_rss_mb"] for k, v in stages.items() if v.get("tuned")}
    worst = max(peaks.values()) if peaks else None
    rate = strategies / wall if wall else None

    def check(measured: float | None, target: float, higher_is_better: bool) -> dict[str, Any]:
        met = None
        if measured is not None:
            met = measured > target if higher_is_better else measured < target
        return {"target": target, "measured": measured, "met": met}

    return {
        "strategies_per_s": check(rate, targets["strategies_per_s"], True),
        "load_s": check(load, targets["load_s"], False),
        "total_s": check(wall, targets["total_s"], False),
        "stage_peak_mb": {**check(worst, targets["stage_peak_mb"], False), "per_stage": peaks},
    }


def pipeline_targets(
    targets: Mapping[str, float], strategies: int, pipeline: Mapping[str, Any]
) -> dict[str, Any]:
    """The same targets for the Snakemake end-to-end runs (whole run; each rule's own peak)."""
    wall = pipeline["summary"]["wall_s"]
    peaks = {
        k: v["max_rss_mb"] for k, v in pipeline["rules"].items() if v.get("max_rss_mb") is not None
    }
    worst = max(peaks.values()) if peaks else None
    return {
        "pipeline_total_s": {
            "target": targets["total_s"],
            "measured": wall,
            "met": wall < targets["total_s"],
        },
        "pipeline_strategies_per_s": {
            "target": targets["strategies_per_s"],
            "measured": strategies / wall,
            "met": strategies / wall > targets["strategies_per_s"],
        },
        "pipeline_rule_peak_mb": {
            "target": targets["stage_peak_mb"],
            "measured": worst,
            "met": None if worst is None else worst < targets["stage_peak_mb"],
            "per_rule": peaks,
        },
    }


# ---------------------------------------------------------------- the table


def _f(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x" if value < 100 else f"{value:.0f}x"


def format_markdown(doc: Mapping[str, Any]) -> str:
    """bench.md: the side-by-side table, the targets, the equivalence checks, the notes."""
    head = (
        "| stage | baseline wall s | tuned wall s | wall ratio | baseline CPU s | tuned CPU s "
        "| CPU ratio | baseline peak MB | tuned peak MB |"
    )
    lines = [
        f"# Benchmark: workload `{doc['workload']}`",
        "",
        f"Input: `{doc['input']['path']}` ({doc['strategies']} strategies x {doc['days']} days). "
        f"Baseline: {doc['baseline']['label']}. Tuned: {doc['tuned']['label']}.",
        f"Medians of {doc['baseline']['repeats']} baseline and {doc['tuned']['repeats']} tuned runs, "
        "alternating, each stage in its own child process.",
        "",
        head,
        "|" + "---|" * 9,
    ]
    rows = [*doc["stages"].items(), ("**total**", doc["total"])]
    if doc.get("total_without_correlation"):
        rows.append(
            ("total, tuned without the correlation analysis", doc["total_without_correlation"])
        )
    for name, entry in rows:
        b = entry.get("baseline") or {}
        t = entry.get("tuned") or {}
        r = entry.get("ratio") or {}
        mark = " (extrapolated)" if b.get("extrapolated") else ""
        lines.append(
            f"| {name}{mark} | {_f(b.get('wall_s'), '.3f')} | {_f(t.get('wall_s'), '.3f')} "
            f"| {_ratio(r.get('wall_s'))} | {_f(b.get('cpu_s'), '.3f')} | {_f(t.get('cpu_s'), '.3f')} "
            f"| {_ratio(r.get('cpu_s'))} | {_f(b.get('peak_rss_mb'), '.0f')} "
            f"| {_f(t.get('peak_rss_mb'), '.0f')} |"
        )
    lines += ["", "## Targets (tuned side)", ""]
    names = {
        "strategies_per_s": "throughput, strategies/s (> target)",
        "load_s": "data load s (< target)",
        "total_s": "whole run s (< target)",
        "stage_peak_mb": "largest stage peak MB (< target)",
        "pipeline_total_s": "snakemake ingest to report, s (< target)",
        "pipeline_strategies_per_s": "snakemake throughput, strategies/s (> target)",
        "pipeline_rule_peak_mb": "largest Snakemake rule peak MB (< target)",
    }
    for key, label in names.items():
        if key not in doc["targets"]:
            continue
        c = doc["targets"][key]
        verdict = {True: "met", False: "NOT met", None: "not measured"}[c["met"]]
        lines.append(f"- {label}: {_f(c['measured'], '.2f')} vs {c['target']:g}: {verdict}")
    eq = doc["equivalence"]
    lines += ["", "## Equivalence (same run)", ""]
    if not eq.get("ran"):
        lines.append(f"- not checked: {eq.get('why', 'no comparable baseline outputs')}")
    for check in eq.get("checks", []):
        lines.append(
            f"- {check['name']}: {'passed' if check['passed'] else 'FAILED'}{_check_detail(check)}"
        )
    if doc.get("notes"):
        lines += ["", "## Notes", ""]
        lines += [f"- {n}" for n in doc["notes"]]
    return "\n".join(lines) + "\n"


def _check_detail(check: Mapping[str, Any]) -> str:
    if check["name"] == "strategy_metrics":
        same = min(v["identical"] for v in check["per_metric"].values())
        worst = max(v["max_scaled_difference"] for v in check["per_metric"].values())
        return (
            f" ({check['strategies_compared']} strategies; at least {same} bit-identical per metric, "
            f"largest scaled difference {worst:.2e})"
        )
    if check["name"] == "ulta_inversions":
        return f" ({check['inverted_baseline']} inverted by the baseline, {check['inverted_tuned']} by the tuned)"
    if check["name"] == "portfolio_fitness":
        diffs = [
            r.get("relative_difference")
            for r in check["sizes"]
            if r.get("relative_difference") is not None
        ]
        worst = max(diffs) if diffs else None
        return f" ({len(check['sizes'])} sizes; largest relative difference {_f(worst, '.2e')})"
    return ""
