"""Correlation: pairs above thresholds, the histogram, window means, near-duplicates, top pairs.

Read from correlation.json (correlation_summary); the shard files only say
how many shards ran when the summary is missing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from stratopt import contracts as C
from stratopt.report.sections import Reader

TOP_PAIRS = 15


def collect_correlation(reader: Reader) -> dict[str, Any] | None:
    shards = len(C.CORRELATION_SHARD.glob(reader.results))
    doc = reader.json(C.CORRELATION)
    if doc is None:
        return {"shards": shards, "summary": False} if shards else None
    members = doc["near_duplicates"]["members"]
    groups = sorted(([str(s) for s in g] for g in members), key=len, reverse=True)
    windows = doc["windows"]
    return {
        "summary": True,
        "shards": shards or doc["shards"],
        "n_strategies": doc["n_strategies"],
        "n_pairs": doc["pairs"],
        "hist_edges": [float(e) for e in doc["histogram"]["edges"]],
        "hist_counts": [float(c) for c in doc["histogram"]["counts"]],
        "above": {str(t["abs_r_at_least"]): t["pairs"] for t in doc["thresholds"]},
        "heatmap": np.asarray(windows["mean_r"], dtype=float),  # null (no pairs) -> NaN
        "windows": [str(w) for w in windows["labels"]],
        "groups": groups,
        "group_count": len(groups),
        "grouped_strategies": sum(len(g) for g in groups),
        "top_pairs": [
            {"a": p["a"], "b": p["b"], "r": p["r"]}
            for p in doc["top_pairs"]["positive"][:TOP_PAIRS]
        ],
    }
