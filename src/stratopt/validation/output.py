"""Pooling the folds, choosing the size, and writing validation.json and the Parquet.

Per size the test periods are stitched in time order into one out-of-sample
series (each session at most once: test periods never overlap); random
portfolio j of the pooled distribution is random portfolio j of every fold,
so its pooled ROI is the sum of its fold ROIs. The recommended size is the
validated size whose stitched series has the highest guarded ratio (ties: the
smaller size). validation.json is strict JSON: no NaN or Infinity tokens,
null instead. Field by field: docs/validation.md.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from stratopt import contracts
from stratopt.runtime.atomic import atomic_path, write_text
from stratopt.validation.compare import distribution, percentile, series_figures
from stratopt.validation.folds import Fold
from stratopt.validation.run import NAIVE, SizeOutcome
from stratopt.validation.verdict import verdict

SCHEMA = "stratopt-validation/1"
RULE = "the validated size with the highest pooled out-of-sample guarded ratio (ties: the smaller)"


def pool_size(
    size: int,
    folds: Sequence[Fold],
    outcomes: Sequence[SizeOutcome],
    *,
    drawdown_floor: float | None,
    bar: float,
    near_zero: float,
) -> dict[str, Any]:
    """One size over all folds: the stitched figures, percentiles, Spearman, survival, verdict."""
    series = np.concatenate([o.pick_test for o in outcomes])
    pooled = series_figures(series, drawdown_floor)
    random_roi = np.sum([o.random_test_roi for o in outcomes], axis=0)
    pooled["percentile"] = percentile(pooled["roi"], random_roi)
    train_gain = sum(
        o.record["pick"]["train"]["mean_pnl"] * f.n_test
        for o, f in zip(outcomes, folds, strict=True)
    )
    pooled["survival"] = pooled["roi"] / train_gain if train_gain > 0 else None
    rhos = [o.spearman for o in outcomes]
    defined = [r for r in rhos if r is not None]
    pooled["spearman"] = rhos
    pooled["spearman_median"] = statistics.median(defined) if defined else None
    for key in NAIVE:
        naive = series_figures(
            np.concatenate([o.naive_test[key] for o in outcomes]), drawdown_floor
        )
        naive["percentile"] = percentile(naive["roi"], random_roi)
        pooled[key] = naive
    pooled["random"] = distribution(random_roi)
    said = verdict(
        pooled["percentile"],
        pooled["spearman_median"],
        pooled["roi"],
        pooled["survival"],
        bar=bar,
        near_zero=near_zero,
    )
    flags = [
        {"fold": f.index, "flag": text}
        for o, f in zip(outcomes, folds, strict=True)
        for text in o.record["pick"]["flags"]
    ]
    return {
        "size": size,
        "pooled": pooled,
        "flags": flags,
        "skill": said["skill"],
        "verdict": said["text"],
    }


def recommend(by_size: Sequence[Mapping[str, Any]]) -> Mapping[str, Any]:
    """The size with the best pooled guarded ratio (the first, i.e. smallest, of ties)."""
    return max(by_size, key=lambda s: (s["pooled"]["guarded_ratio"], -s["size"]))


def fold_header(fold: Fold, dates: np.ndarray, inverted: int) -> dict[str, Any]:
    def span(sl: slice) -> dict[str, Any]:
        return {
            "first": str(dates[sl.start]),
            "last": str(dates[sl.stop - 1]),
            "sessions": sl.stop - sl.start,
            "start_index": sl.start,
        }

    return {
        "fold": fold.index,
        "train": span(fold.train),
        "test": span(fold.test),
        "inverted": inverted,
    }


def strict(obj: Any) -> Any:
    """A copy with every non-finite float replaced by None (strict JSON)."""
    if isinstance(obj, float | np.floating):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    if isinstance(obj, Mapping):
        return {str(k): strict(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple | np.ndarray):
        return [strict(v) for v in obj]
    return obj


def write_validation_json(path: str | Path, doc: Mapping[str, Any]) -> None:
    text = json.dumps(contracts.VALIDATION.checked(strict(doc), path), indent=2, allow_nan=False)
    write_text(path, text + "\n")


def _column(values: Any, dtype: type, arrow_type: pa.DataType) -> pa.Array:
    """An Arrow column over a NumPy buffer (pa.array would import pandas: ~80 MB a process)."""
    data: np.ndarray = np.ascontiguousarray(np.asarray(values, dtype=dtype))
    return pa.Array.from_buffers(arrow_type, len(data), [None, pa.py_buffer(data)])


def write_oos_parquet(
    path: str | Path,
    dates: np.ndarray,
    folds: Sequence[Fold],
    outcomes: Mapping[int, Sequence[SizeOutcome]],
) -> None:
    """The stitched out-of-sample P&L, one row per (size, test session)."""
    cols: dict[str, list[Any]] = {
        "size": [],
        "fold": [],
        "session": [],
        "date": [],
        "pick": [],
        "pick_equity": [],
        **{key: [] for key in NAIVE},
    }
    for size, per_fold in outcomes.items():
        equity = 0.0
        for fold, outcome in zip(folds, per_fold, strict=True):
            for k, pnl in enumerate(outcome.pick_test.tolist()):
                equity += pnl
                cols["size"].append(size)
                cols["fold"].append(fold.index)
                cols["session"].append(fold.test_start + k)
                cols["date"].append(dates[fold.test_start + k])
                cols["pick"].append(pnl)
                cols["pick_equity"].append(equity)
                for key in NAIVE:
                    cols[key].append(float(outcome.naive_test[key][k]))
    days = np.asarray(cols["date"], dtype="datetime64[D]").astype(np.int64).astype(np.int32)
    table = pa.table(
        {
            **{k: _column(cols[k], np.int32, pa.int32()) for k in ("size", "fold", "session")},
            "date": _column(days, np.int32, pa.date32()),
            **{
                k: _column(cols[k], np.float64, pa.float64())
                for k in ("pick", "pick_equity", *NAIVE)
            },
        }
    )
    contracts.VALIDATION_OOS.check_schema(table.schema, path)
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
