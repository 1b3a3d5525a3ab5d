"""Baseline == tuned, checked on the outputs of the same benchmark run.

Three checks, each recorded with its figures whether it passes or not:
- strategy_metrics: the five per-strategy metrics of every strategy, matched
  by name. "Identical" is judged per value: equal, or within 1e-12 of the
  strategy's absolute P&L volume (sum |r|) for the money-valued metrics and
  1e-12 relative for the ratios, which is summation order and nothing else;
  how many are bit-for-bit equal is recorded too.
- ulta_inversions: the same set of inverted strategies, the same column
  order, and the prepared (inverted) matrices equal bit for bit.
- portfolio_fitness: the baseline's best portfolio of each size it searched,
  re-evaluated by the tuned engine (stratopt.engine.evaluator.Evaluator over the
  tuned prepared.parquet), agrees with the baseline's fitness to 1e-9
  relative.
Runs in a child process (it reads the matrices; the parent stays small).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from stratopt import contracts
from stratopt.engine.reference import METRIC_COLUMNS
from stratopt.errors import InputError

METRIC_TOL = 1e-12
FITNESS_RTOL = 1e-9
MONEY = ("ROI", "Max Drawdown", "Expectancy")


def _close(a: np.ndarray, b: np.ndarray, scale: np.ndarray) -> np.ndarray:
    both_inf = np.isinf(a) & np.isinf(b) & (np.sign(a) == np.sign(b))
    with np.errstate(invalid="ignore"):
        diff = np.abs(a - b)
    return both_inf | (a == b) | (diff <= METRIC_TOL * scale)


def compare_metrics(base: pd.DataFrame, tuned: pd.DataFrame, volume: pd.Series) -> dict[str, Any]:
    """Per-metric agreement of two strategy-indexed frames (columns METRIC_COLUMNS)."""
    common = base.index.intersection(tuned.index)
    only_base = base.index.difference(tuned.index)
    only_tuned = tuned.index.difference(base.index)
    per_metric: dict[str, Any] = {}
    passed = len(common) > 0
    for col in METRIC_COLUMNS:
        a = base.loc[common, col].to_numpy(dtype=np.float64)
        b = tuned.loc[common, col].to_numpy(dtype=np.float64)
        if col in MONEY:
            scale = np.maximum(volume.reindex(common).to_numpy(dtype=np.float64), 1.0)
        else:
            scale = np.maximum(np.abs(a), 1.0)
        ok = _close(a, b, scale)
        finite = np.isfinite(a) & np.isfinite(b)
        rel = np.abs(a - b)[finite] / scale[finite] if finite.any() else np.zeros(0)
        per_metric[col] = {
            "identical": int(np.count_nonzero((a == b) | (np.isinf(a) & (a == b)))),
            "within_tolerance": int(np.count_nonzero(ok)),
            "max_scaled_difference": float(rel.max()) if len(rel) else 0.0,
        }
        passed = passed and bool(ok.all())
    return {
        "name": "strategy_metrics",
        "passed": bool(passed and not len(only_tuned)),
        "strategies_compared": int(len(common)),
        "only_in_baseline": [str(s) for s in only_base[:20]],
        "only_in_tuned": [str(s) for s in only_tuned[:20]],
        "tolerance": f"{METRIC_TOL:g} of sum|r| (money) or of |value| (ratios)",
        "per_metric": per_metric,
    }


def compare_ulta(
    base_names: list[str],
    base_values: np.ndarray | None,
    tuned_names: list[str],
    tuned_values: np.ndarray,
) -> dict[str, Any]:
    inv_b = {n for n in base_names if n.endswith("_inv")}
    inv_t = {n for n in tuned_names if n.endswith("_inv")}
    same_order = base_names == tuned_names
    values_equal = None
    if base_values is not None and same_order:
        values_equal = bool(np.array_equal(base_values, tuned_values))
    return {
        "name": "ulta_inversions",
        "passed": bool(inv_b == inv_t and same_order and values_equal is not False),
        "inverted_baseline": len(inv_b),
        "inverted_tuned": len(inv_t),
        "only_baseline": sorted(inv_b - inv_t)[:20],
        "only_tuned": sorted(inv_t - inv_b)[:20],
        "same_column_order": same_order,
        "prepared_values_identical": values_equal,
    }


def compare_fitness(
    portfolios: dict[int, dict[str, Any]], tuned_prepared: Path, config: dict[str, Any]
) -> dict[str, Any]:
    """Each size's baseline best portfolio (by name) re-evaluated by the tuned engine."""
    from stratopt.data.matrix import read_matrix
    from stratopt.engine.evaluator import Evaluator
    from stratopt.legacy.names import clean_name

    matrix = read_matrix(tuned_prepared)
    position = {name: i for i, name in enumerate(matrix.names)}
    ev = Evaluator(
        matrix.values,
        metric=config["metric"],
        drawdown_threshold=float(config["drawdown_threshold"]),
    )
    tuned_best = _tuned_best(tuned_prepared.parent, config)
    rows = []
    for size, entry in sorted(portfolios.items()):
        names = [clean_name(n, position) for n in entry["names"]]  # legacy files: stem prefix
        missing = [n for n in names if n not in position]
        row: dict[str, Any] = {
            "size": size,
            "algorithm": entry.get("algorithm"),
            "baseline_fitness": entry["fitness"],
        }
        if missing:
            row.update(passed=False, missing=missing[:5])
        else:
            idx = sorted(position[n] for n in names)
            got = ev.evaluate_one(idx)
            rel = abs(got - entry["fitness"]) / max(abs(entry["fitness"]), abs(got), 1e-300)
            tol = max(FITNESS_RTOL, entry.get("printed_tolerance", 0.0))
            row.update(tuned_fitness=got, relative_difference=rel, passed=bool(rel <= tol))
            if size in tuned_best:
                row["tuned_search_fitness"] = tuned_best[size]["fitness"]
                row["same_portfolio_as_tuned_search"] = sorted(tuned_best[size]["best"]) == idx
        rows.append(row)
    return {
        "name": "portfolio_fitness",
        "passed": bool(rows) and all(r["passed"] for r in rows),
        "relative_tolerance": FITNESS_RTOL,
        "sizes": rows,
    }


def _tuned_best(results: Path, config: dict[str, Any]) -> dict[int, dict[str, Any]]:
    """The tuned search's winner per size, from the runs/{algorithm}.json under `results`."""
    from stratopt.bench.sidebyside.baseline import best_per_size

    records = []
    for name in config["optimize"]["algorithms"]:
        doc = contracts.RUN.read_json(results, algorithm=name)
        if doc is not None:
            records += [{**r, "algorithm": name} for r in doc["sizes"]]
    return best_per_size(records, list(config["optimize"]["algorithms"]))


# ---------------------------------------------------------------- the built-in baseline


def check_reference(baseline: str, tuned: str, config: dict[str, Any]) -> dict[str, Any]:
    """All three checks between the built-in baseline's and the tuned pipeline's outputs."""
    import json

    from stratopt.bench.sidebyside.baseline import load_matrix
    from stratopt.data.matrix import read_matrix
    from stratopt.legacy.metrics_csv import read_metrics_csv

    b, t = Path(baseline), Path(tuned)
    base_prep = load_matrix(b, "prepared")
    volume = pd.Series(np.abs(base_prep.values).sum(axis=0), index=base_prep.names)
    tuned_metrics = _tuned_metrics(t)
    base_metrics = _legacy_metric_index(
        read_metrics_csv(contracts.METRICS_CSV.path(b)), list(tuned_metrics.index)
    )
    checks = [compare_metrics(base_metrics, tuned_metrics, volume)]
    tuned_prep = read_matrix(contracts.PREPARED.path(t))
    checks.append(
        compare_ulta(base_prep.names, base_prep.values, tuned_prep.names, tuned_prep.values)
    )
    best = json.loads((b / "best.json").read_text(encoding="utf-8"))
    checks.append(
        compare_fitness({int(k): v for k, v in best.items()}, contracts.PREPARED.path(t), config)
    )
    return _verdict(checks)


# ---------------------------------------------------------------- an external legacy command


def parse_best_portfolio(path: Path) -> dict[str, Any]:
    """A best_portfolio_size{n}.txt (stratopt.legacy.layout): size, method, fitness, names.

    `printed_tolerance` is what the printed digits of the fitness can hold
    (the legacy prints the float's repr, so about 1e-16 relative).
    """
    from stratopt.legacy.layout import read_text

    try:
        doc = read_text(path)
        text = doc.fitness_text
        fitness = doc.fitness
    except (KeyError, ValueError) as exc:
        raise ValueError(f"{path}: not a best_portfolio file ({exc})") from exc
    if doc.kind != "best_portfolio" or not doc.strategies:
        raise ValueError(
            f"{path}: not a best_portfolio file (size, Fitness and numbered strategies)"
        )
    tol = 0.0
    decimals = len(text.split(".")[1]) if "." in text and "e" not in text.lower() else None
    if decimals is not None and math.isfinite(fitness) and fitness != 0:
        tol = 0.5 * 10.0**-decimals / abs(fitness)
    return {
        "size": doc.size,
        "algorithm": doc.method,
        "fitness": fitness,
        "names": list(doc.strategies),
        "printed_tolerance": tol,
    }


def _tuned_metrics(results: Path) -> pd.DataFrame:
    """strategy_metrics.parquet (its contract checked), indexed by strategy."""
    columns = ["strategy", *METRIC_COLUMNS]
    from stratopt.data.matrix import read_output

    table = read_output(contracts.METRICS, results, columns)
    if table is None:
        raise InputError(contracts.METRICS.path(results), "the tuned side wrote no metrics")
    return table.to_pandas().set_index("strategy")[METRIC_COLUMNS]


def _legacy_metric_index(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """Map the legacy's '<file stem>_<strategy>' row names back to strategy names."""
    from stratopt.legacy.names import clean_name

    known = set(names)
    out = frame.copy()
    out.index = pd.Index([clean_name(raw, known) for raw in frame.index.astype(str)])
    return out


def check_external(
    metrics_csv: str | None, portfolios_dir: str | None, tuned: str, config: dict[str, Any]
) -> dict[str, Any]:
    """The checks an external legacy run's own outputs allow (configured in the workload)."""
    from stratopt.data.matrix import read_matrix

    t = Path(tuned)
    checks: list[dict[str, Any]] = []
    if metrics_csv:
        from stratopt.legacy.metrics_csv import read_metrics_csv

        prepared = read_matrix(contracts.PREPARED.path(t))  # names as the search sees them
        volume = pd.Series(np.abs(prepared.values).sum(axis=0), index=prepared.names)
        tuned_metrics = _tuned_metrics(t)
        base = _legacy_metric_index(read_metrics_csv(metrics_csv), list(tuned_metrics.index))
        check = compare_metrics(base[METRIC_COLUMNS], tuned_metrics, volume)
        # the legacy skips the first strategy (a known defect): not a disagreement
        check["passed"] = bool(
            all(
                v["within_tolerance"] == check["strategies_compared"]
                for v in check["per_metric"].values()
            )
            and check["strategies_compared"] > 0
        )
        checks.append(check)
    if portfolios_dir:
        files = sorted(Path(portfolios_dir).glob(contracts.fill(contracts.LEGACY_BEST, size="*")))
        parsed = {p["size"]: p for p in (parse_best_portfolio(f) for f in files)}
        checks.append(compare_fitness(parsed, contracts.PREPARED.path(t), config))
    return _verdict(checks)


def _verdict(checks: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "ran": bool(checks),
        "passed": bool(checks) and all(c["passed"] for c in checks),
        "checks": checks,
    }
