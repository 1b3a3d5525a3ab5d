"""The report's answer sections: the out-of-sample result, the choice, the search comparison.

Read from validation.json and validation_oos.parquet (the validate stage),
summary.json (select) and runs/*.json (optimize). The out-of-sample section
leads the report; every in-sample figure next to it is labelled hindsight.
Readers look for the fields they need and return None when a file is absent.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

#: The figures shown side by side: out of sample (stitched test sessions) and in sample.
SIDE_BY_SIDE = (
    ("roi", "total_roi", "ROI"),
    ("max_drawdown", "max_drawdown", "max drawdown"),
    ("win_rate", "win_percentage", "win rate"),
    ("mean_pnl", None, "mean P&L per session"),
    ("guarded_ratio", None, "guarded ratio"),
    ("ratio", None, "ROI / max drawdown"),
)


def _read(path: Path, notes: list[str]) -> Any:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        notes.append(f"{path.name}: unreadable ({exc})")
        return None


def _oos_series(path: Path, size: int, notes: list[str]) -> dict[str, Any] | None:
    """The recommended size's stitched series: dates, P&L, naive picks, fold starts."""
    if not path.exists():
        return None
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(path).to_pandas()
    except (OSError, ValueError) as exc:
        notes.append(f"{path.name}: unreadable ({exc})")
        return None
    rows = table[table["size"] == size].sort_values("session")
    if rows.empty:
        return None
    folds = rows["fold"].to_numpy()
    starts = [0] + [k for k in range(1, len(folds)) if folds[k] != folds[k - 1]]
    return {
        "dates": rows["date"].to_numpy().astype("datetime64[D]"),
        "pick": rows["pick"].to_numpy(dtype=np.float64),
        "naive": {
            key: rows[key].to_numpy(dtype=np.float64)
            for key in ("top_roi", "top_ratio")
            if key in rows
        },
        "fold_starts": starts,
    }


def _in_sample(summary: Mapping[str, Any] | None, size: int) -> dict[str, Any] | None:
    if not isinstance(summary, Mapping):
        return None
    for entry in summary.get("sizes") or []:
        if entry.get("size") == size:
            return entry
    return None


def collect_validation(results: Path, notes: list[str]) -> dict[str, Any] | None:
    """Everything the out-of-sample section shows, or None when validate did not run."""
    doc = _read(results / "validation.json", notes)
    if not isinstance(doc, Mapping) or "by_size" not in doc:
        return None
    size = int(doc["recommended_size"])
    chosen = next((s for s in doc["by_size"] if s["size"] == size), doc["by_size"][0])
    pooled = chosen["pooled"]
    insample = _in_sample(_read(results / "summary.json", notes), size)
    metrics = (insample or {}).get("metrics") or {}
    side = [
        {
            "label": label,
            "key": oos_key,  # how the figure is formatted (report/render.py METRIC_KINDS)
            "oos": pooled.get(oos_key),
            "ins": metrics.get(ins_key) if ins_key else None,
            "pct": oos_key == "win_rate",
        }
        for oos_key, ins_key, label in SIDE_BY_SIDE
    ]
    folds = []
    for fold in doc.get("folds") or []:
        rec = next((r for r in fold.get("sizes") or [] if r.get("size") == size), None)
        if rec is None:
            continue
        folds.append(
            {
                "fold": fold["fold"],
                "train": fold["train"],
                "test": fold["test"],
                "inverted": fold.get("inverted"),
                "algorithm": rec["pick"]["algorithm"],
                "train_fitness": rec["pick"]["train_fitness"],
                "train_roi": rec["pick"]["train"]["roi"],
                "test_roi": rec["pick"]["test"]["roi"],
                "percentile": rec["pick"]["percentile"],
                "survival": rec["pick"]["survival"],
                "spearman": rec.get("spearman"),
                "flags": rec["pick"].get("flags") or [],
                "algorithms": rec.get("algorithms") or [],
            }
        )
    return {
        "verdict": doc.get("verdict"),
        "skill": bool(doc.get("skill")),
        "size": size,
        "rule": doc.get("recommendation_rule"),
        "settings": doc.get("settings") or {},
        "sessions": doc.get("sessions") or {},
        "pooled": pooled,
        "side_by_side": side,
        "in_sample_algorithm": (insample or {}).get("algorithm"),
        "by_size": doc["by_size"],
        "folds": folds,
        "series": _oos_series(results / "validation_oos.parquet", size, notes),
    }


def collect_choice(results: Path, notes: list[str]) -> dict[str, Any] | None:
    """select's best-overall rule and its flags (summary.json)."""
    summary = _read(results / "summary.json", notes)
    if not isinstance(summary, Mapping):
        return None
    flagged = [
        {"size": e["size"], "algorithm": e.get("algorithm"), "flags": e.get("flags") or []}
        for e in summary.get("sizes") or []
        if e.get("flags")
    ]
    return {
        "rule": summary.get("best_overall_rule") or {},
        "best": summary.get("best_overall") or {},
        "flagged": flagged,
        "flag_drawdown_below": summary.get("flag_drawdown_below"),
        "sizes": len(summary.get("sizes") or []),
    }


def collect_search(
    results: Path,
    best_size: int | None,
    convergence: Mapping[str, Mapping[int, Any]],
    notes: list[str],
) -> dict[str, Any] | None:
    """Fitness per algorithm and size, evaluations spent, convergence of the chosen size.

    `convergence`: algorithm -> size -> [[evaluations, best], ...], as collect_runs
    read it from runs/*.json (read once: with equal budgets they are megabytes).
    """
    summary = _read(results / "summary.json", notes)
    if not isinstance(summary, Mapping) or not summary.get("sizes"):
        return None
    algorithms = list(summary.get("algorithms") or [])
    rows = []
    budgets: set[int] = set()
    for entry in summary["sizes"]:
        fits = entry.get("fitness_by_algorithm") or {}
        evals = entry.get("evaluations_by_algorithm") or {}
        budgets.update(int(v) for v in evals.values())
        rows.append(
            {
                "size": entry["size"],
                "winner": entry.get("algorithm"),
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
        "wins": summary.get("wins") or {},
        "metric": summary.get("metric"),
        "preset": summary.get("preset"),
        "curve_size": size,
        "curves": curves,
    }
