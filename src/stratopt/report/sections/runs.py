"""The searches and the whole run's measures: runs/*.json, throughput, the stages finished."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stratopt import contracts as C
from stratopt.report.sections import Reader


def collect_runs(reader: Reader) -> dict[str, Any] | None:
    """Per algorithm: sizes, best fitness, evaluations, seconds; and its convergence curves."""
    docs = [reader.json_at(C.RUN, path) for path in C.RUN.glob(reader.results)]
    docs = [d for d in docs if d is not None]
    if not docs:
        return None
    rows = []
    convergence: dict[str, dict[int, Any]] = {}  # algorithm -> size -> [[evals, best], ...]
    for doc in docs:
        records = doc["sizes"]
        name = doc["algorithm"]
        convergence[name] = {r["size"]: r["convergence"] for r in records if r["convergence"]}
        fits = [r["fitness"] for r in records if r["fitness"] is not None]
        evals = sum(r["evaluations"] for r in records)
        secs = sum(r["seconds"] for r in records)
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


def activated_stages(config: Mapping[str, Any] | None) -> list[str]:
    """The stages the config asks for (correlation and validation can be switched off)."""
    names = [name for name, _ in C.STAGES]
    if ((config or {}).get("correlation") or {}).get("enabled") is False:
        names = [n for n in names if not n.startswith("correlation")]
    if ((config or {}).get("validation") or {}).get("enabled") is False:
        names = [n for n in names if n != "validate"]
    return names


def collect_success(reader: Reader, config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Each activated stage finished when every output its contract lists exists."""
    wanted = activated_stages(config)
    rows = [
        {
            "stage": name,
            "finished": all(o.exists(reader.results) for o in outputs),
            "outputs": " + ".join(o.name for o in outputs),
        }
        for name, outputs in C.STAGES
        if name in wanted
    ]
    finished = sum(bool(r["finished"]) for r in rows)
    return {
        "rows": rows,
        "finished": finished,
        "expected": len(rows),
        "rate": finished / len(rows) if rows else 0.0,
    }


def collect_throughput(
    strategies: int | None,
    totals: dict[str, Any] | None,
    runs: dict[str, Any] | None,
    bench: dict[str, Any] | None,
) -> dict[str, Any]:
    """Strategies per second of the summed stage wall time; evaluations per second of search."""
    wall = totals["wall_s"] if totals else None
    return {
        "strategies": strategies,
        "pipeline_wall_s": wall,
        "strategies_per_s": strategies / wall if strategies and wall else None,
        "evaluations": runs["evaluations"] if runs else None,
        "evaluations_per_s": (runs["evaluations"] / runs["seconds"])
        if runs and runs["seconds"]
        else None,
        "bench": bench["strategies_per_s"] if bench else None,
    }
