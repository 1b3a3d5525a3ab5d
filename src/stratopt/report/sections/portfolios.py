"""The select stage's answers: the best portfolio per size, the best overall, its zones.

Read from portfolios.parquet (one row per size, select's choice flagged
`best_overall`), prepared.parquet (the chosen portfolio's series, by the
indices select recorded) and zones.json.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from stratopt import contracts as C
from stratopt.report.sections import Reader

#: The figures shown per size beside the fitness, in this order.
FIGURES = ("guarded_fitness", "evaluations", *C.PORTFOLIO_METRICS)


def _num(value: Any) -> float | None:
    return None if value is None or (isinstance(value, float) and math.isnan(value)) else value


def collect_portfolios(reader: Reader) -> dict[str, Any] | None:
    """One row per size: method, fitness, the figures, strategies, choice and flags."""
    table = reader.table(C.PORTFOLIOS)
    if table is None:
        return None
    records = sorted(table.to_pylist(), key=lambda r: r["size"])
    sizes = [r["size"] for r in records]
    path = C.PORTFOLIOS.path(reader.results)
    if len(set(sizes)) != len(sizes):
        reader.broke(path, f"{path}: more than one row for a size ({sizes})")
        return None
    if sum(r["best_overall"] for r in records) != 1:
        reader.broke(path, f"{path}: not exactly one row flagged best_overall")
        return None
    rows = [
        {
            "size": r["size"],
            "method": r["algorithm"],
            "fitness": _num(r["fitness"]),
            "metrics": {k: _num(r[k]) for k in FIGURES},
            "strategies": list(r["names"]),
            "indices": list(r["indices"]),
            "best_overall": r["best_overall"],
            "flags": [f for f in r["flags"].split("; ") if f],
        }
        for r in records
    ]
    return {"source": C.PORTFOLIOS.name, "rows": rows, "metric_names": list(FIGURES)}


def _series(reader: Reader, best: dict[str, Any]) -> tuple[np.ndarray, np.ndarray] | None:
    """The chosen portfolio's equal-weight series from prepared.parquet, by its indices.

    Only its strategies' rows are kept (read_strategies): the whole matrix cost
    the report stage ~80 MB of resident memory for one series.
    """
    from stratopt.data.matrix import read_strategies

    if not reader.parquet_fits(C.PREPARED):
        return None
    path = C.PREPARED.path(reader.results)
    idx = best["indices"]
    try:
        dates, names, values = read_strategies(path, idx)
    except IndexError:
        names = []
    if not names or [names[i] for i in idx] != best["strategies"]:
        reader.broke(
            C.PORTFOLIOS.path(reader.results),
            f"{C.PORTFOLIOS.name}: size {best['size']}'s indices do not name its strategies in "
            f"{path} (select ran on another prepared matrix: rerun it)",
        )
        return None
    return dates, values.mean(axis=1)


def collect_best(reader: Reader, portfolios: dict[str, Any] | None) -> dict[str, Any] | None:
    """select's choice (never simply the largest fitness: docs/validation.md), with its series."""
    if not portfolios:
        return None
    best = dict(next(r for r in portfolios["rows"] if r["best_overall"]))
    best["dates"] = best["series"] = None
    found = _series(reader, best)
    if found is not None:
        best["dates"], best["series"] = found
    return best


def collect_zones(reader: Reader) -> dict[str, Any] | None:
    """zones.json as the select stage wrote it (stratopt.selection.zones), or None."""
    return reader.json(C.ZONES)
