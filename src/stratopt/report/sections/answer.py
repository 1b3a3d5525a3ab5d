"""The report's answer sections: the out-of-sample result, the choice, the search comparison.

Read from validation.json and validation_oos.parquet (the validate stage),
summary.json (select) and runs/*.json (optimize), each through its contract.
The out-of-sample section leads the report; every in-sample figure next to
it is labelled hindsight.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from stratopt import contracts as C
from stratopt.report.sections import Reader

#: The figures shown side by side: out of sample (stitched test sessions) and in sample.
SIDE_BY_SIDE = (
    ("roi", "total_roi", "ROI"),
    ("max_drawdown", "max_drawdown", "max drawdown"),
    ("win_rate", "win_percentage", "win rate"),
    ("mean_pnl", None, "mean P&L per session"),
    ("guarded_ratio", None, "guarded ratio"),
    ("ratio", None, "ROI / max drawdown"),
)


def _oos_series(reader: Reader, size: int) -> dict[str, Any] | None:
    """The recommended size's stitched series: dates, P&L, naive picks, fold starts.

    Plain Python lists from Arrow, not pandas (its import cost the report stage ~0.6 s
    of CPU and 40 MB), for a few hundred rows.
    """
    table = reader.table(C.VALIDATION_OOS)
    if table is None:
        return None
    columns = ("size", "session", "fold", "date", "pick", "top_roi", "top_ratio")
    data = {name: table.column(name).to_pylist() for name in columns}
    rows = sorted(
        (k for k, s in enumerate(data["size"]) if s == size), key=lambda k: data["session"][k]
    )
    if not rows:
        return None
    folds = [data["fold"][k] for k in rows]
    starts = [0] + [k for k in range(1, len(folds)) if folds[k] != folds[k - 1]]

    def floats(name: str) -> np.ndarray:
        return np.array([data[name][k] for k in rows], dtype=np.float64)

    return {
        "dates": np.array([data["date"][k] for k in rows], dtype="datetime64[D]"),
        "pick": floats("pick"),
        "naive": {key: floats(key) for key in ("top_roi", "top_ratio")},
        "fold_starts": starts,
    }


def _in_sample(summary: Mapping[str, Any] | None, size: int) -> dict[str, Any] | None:
    if summary is None:
        return None
    return next((entry for entry in summary["sizes"] if entry["size"] == size), None)


def collect_validation(
    reader: Reader, doc: Mapping[str, Any] | None, summary: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """Everything the out-of-sample section shows, or None when validate did not run.

    `doc`: validation.json, `summary`: summary.json, each as read through its contract.
    """
    if doc is None:
        return None
    size = doc["recommended_size"]
    chosen = next((s for s in doc["by_size"] if s["size"] == size), None)
    if chosen is None:
        path = C.VALIDATION.path(reader.results)
        reader.broke(path, f"{path}: the recommended size {size} is not among by_size")
        return None
    pooled = chosen["pooled"]
    insample = _in_sample(summary, size)
    metrics = (insample or {}).get("metrics") or {}
    side = [
        {
            "label": label,
            "key": oos_key,  # how the figure is formatted (report/render.py METRIC_KINDS)
            "oos": pooled[oos_key],
            "ins": metrics.get(ins_key) if ins_key else None,
            "pct": oos_key == "win_rate",
        }
        for oos_key, ins_key, label in SIDE_BY_SIDE
    ]
    folds = []
    for fold in doc["folds"]:
        rec = next((r for r in fold["sizes"] if r["size"] == size), None)
        if rec is None:
            continue
        pick = rec["pick"]
        folds.append(
            {
                "fold": fold["fold"],
                "train": fold["train"],
                "test": fold["test"],
                "inverted": fold["inverted"],
                "algorithm": pick["algorithm"],
                "train_fitness": pick["train_fitness"],
                "train_roi": pick["train"]["roi"],
                "test_roi": pick["test"]["roi"],
                "percentile": pick["percentile"],
                "survival": pick["survival"],
                "spearman": rec["spearman"],
                "flags": pick["flags"],
                "algorithms": rec["algorithms"],
            }
        )
    return {
        "verdict": doc["verdict"],
        "skill": doc["skill"],
        "size": size,
        "rule": doc["recommendation_rule"],
        "settings": doc["settings"],
        "sessions": doc["sessions"],
        "pooled": pooled,
        "side_by_side": side,
        "in_sample_algorithm": (insample or {}).get("algorithm"),
        "by_size": doc["by_size"],
        "folds": folds,
        "series": _oos_series(reader, size),
    }


def collect_choice(summary: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """select's best-overall rule and its flags (summary.json)."""
    if summary is None:
        return None
    flagged = [
        {"size": e["size"], "algorithm": e["algorithm"], "flags": e["flags"]}
        for e in summary["sizes"]
        if e["flags"]
    ]
    return {
        "rule": summary["best_overall_rule"],
        "best": summary["best_overall"],
        "flagged": flagged,
        "flag_drawdown_below": summary["flag_drawdown_below"],
        "sizes": len(summary["sizes"]),
    }


def collect_search(
    summary: Mapping[str, Any] | None,
    best_size: int | None,
    convergence: Mapping[str, Mapping[int, Any]],
) -> dict[str, Any] | None:
    """Fitness per algorithm and size, evaluations spent, convergence of the chosen size.

    `convergence`: algorithm -> size -> [[evaluations, best], ...], as collect_runs
    read it from runs/*.json (read once: with equal budgets they are megabytes).
    """
    if summary is None or not summary["sizes"]:
        return None
    algorithms = list(summary["algorithms"])
    rows = []
    budgets: set[int] = set()
    for entry in summary["sizes"]:
        fits = entry["fitness_by_algorithm"]
        evals = entry["evaluations_by_algorithm"]
        budgets.update(evals.values())
        rows.append(
            {
                "size": entry["size"],
                "winner": entry["algorithm"],
                "fitness": [fits.get(a) for a in algorithms],
                "evaluations": [evals.get(a) for a in algorithms],
            }
        )
    size = best_size if best_size is not None else rows[0]["size"]
    curves = {
        name: convergence[name][size]
        for name in algorithms
        if size in (convergence.get(name) or {})
    }
    return {
        "algorithms": algorithms,
        "rows": rows,
        "equal_budget": len(budgets) == 1,
        "budgets": sorted(budgets),
        "wins": summary["wins"],
        "metric": summary["metric"],
        "preset": summary["preset"],
        "curve_size": size,
        "curves": curves,
    }
