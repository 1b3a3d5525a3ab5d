"""Baseline against current: bench.json of the side-by-side benchmark (stratopt-bench/1).

Rows: each stage, the total, and the total without the correlation analysis;
plus the workload, both sides' labels, the targets, the equivalence verdict
and the notes (docs/benchmark.md; the contract is stratopt.contracts.BENCH).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stratopt import contracts as C
from stratopt.report.sections import Reader

SCHEMA_PREFIX = "stratopt-bench/"
NO_MEASURE = {"wall_s": None, "cpu_s": None, "peak_rss_mb": None, "runs": None}


def _measure(side: Mapping[str, Any] | None) -> dict[str, Any]:
    if side is None:
        return {**NO_MEASURE, "extrapolated": False}
    return {
        "wall_s": side["wall_s"],
        "cpu_s": side["cpu_s"],
        "peak_rss_mb": side["peak_rss_mb"],
        "runs": side["runs"],
        "extrapolated": bool(side.get("extrapolated")),
    }


def _ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b not in (None, 0.0) else None


def _row(name: str, entry: Mapping[str, Any], total: bool) -> dict[str, Any]:
    base, tuned = _measure(entry["baseline"]), _measure(entry["tuned"])
    return {
        "stage": name,
        "baseline": base,
        "tuned": tuned,
        "speedup": entry["ratio"]["wall_s"],
        "cpu_ratio": _ratio(base["cpu_s"], tuned["cpu_s"]),
        "memory_ratio": _ratio(base["peak_rss_mb"], tuned["peak_rss_mb"]),
        "extrapolated": base["extrapolated"] or tuned["extrapolated"],
        "total": total,
    }


def _targets(targets: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each target: name, wanted, measured, met (per-stage detail left out)."""
    return [
        {
            "name": name,
            "target": t["target"],
            "measured": t["measured"],
            "met": t["met"],
            "above": name.endswith("per_s"),  # a rate must exceed its target
        }
        for name, t in targets.items()
    ]


def collect_bench(reader: Reader) -> dict[str, Any] | None:
    doc = reader.json(C.BENCH)
    if doc is None:
        return None
    path = C.BENCH.path(reader.results)
    if not doc["schema"].startswith(SCHEMA_PREFIX):
        reader.broke(path, f"{path}: schema {doc['schema']!r}, not {SCHEMA_PREFIX}*")
        return None
    rows = [_row(name, entry, False) for name, entry in doc["stages"].items()]
    rows.append(_row("total", doc["total"], True))
    if doc.get("total_without_correlation"):
        rows.append(_row("total without correlation", doc["total_without_correlation"], True))
    extrapolation = doc.get("extrapolation")
    pipeline = doc.get("snakemake")
    summary = (pipeline or {}).get("summary")
    return {
        "path": str(path),
        "rows": rows,
        "schema": doc["schema"],
        "workload": doc["workload"],
        "description": doc.get("description"),
        "created": doc.get("created"),
        "input_path": doc["input"]["path"],
        "input_bytes": doc["input"]["bytes"],
        "strategies": doc["strategies"],
        "days": doc["days"],
        "baseline": doc["baseline"],
        "tuned": doc["tuned"],
        "speedup": doc["speedup"],
        "cpu_speedup": doc["cpu_speedup"],
        "strategies_per_s": doc.get("strategies_per_s"),
        "equivalence_passed": doc["equivalence_passed"],
        "extrapolated": doc["extrapolated"],
        "extrapolation_method": (extrapolation or {}).get("method"),
        "targets": _targets(doc["targets"]),
        "snakemake_wall_s": (summary or {}).get("wall_s"),
        "snakemake_cores": (pipeline or {}).get("cores"),
        "notes": list(doc["notes"]),
    }
