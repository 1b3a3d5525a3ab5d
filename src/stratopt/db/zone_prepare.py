"""Zone mode in the database stages (docs/zones.md).

load_db: a zone matrix (stratopt.data.zone_matrix) also fills tables "zone_pnl"
(date, zone_id, strategy_id, pnl) and "zones" (zone_id, zone); "pnl" holds
the day totals as for any matrix, so plain mode still works on a zone file.

prepare with `zone.enabled`: the date range filters the zone rows in SQL
(view "zone_pnl_filtered"), M[d, z, s] is read back, the weights are
normalised (uniform when absent or of the wrong length, as the legacy does)
and X[d, s] = sum_z w_z M[d, z, s] (ZoneData.collapsed) becomes table
"pnl_zone_weighted", which the view "pnl_filtered" then shows: ULTA and the
metrics (SQL or NumPy) work on X, the series the search uses, exactly as in
plain mode. prepared.parquet carries X and M, both reordered and inverted by
ULTA, with the zone names and weights.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from stratopt import contracts
from stratopt.data.matrix import Matrix
from stratopt.data.zone_matrix import read_zone_rows
from stratopt.data.zones import ZoneData, normalise_weights
from stratopt.db import schema as S
from stratopt.db.base import Database
from stratopt.db.sql import sql_text
from stratopt.errors import ConfigError

ZONE_FILTERED = "zone_pnl_filtered"
WEIGHTED_TABLE = "pnl_zone_weighted"


@dataclass(frozen=True)
class ZoneSummary:
    """The zones and their normalised weights, without M."""

    zones: list[str]
    weights: np.ndarray


def zone_settings(config: Mapping[str, Any]) -> tuple[bool, list[float]]:
    """(enabled, weights) from the config's `zone` section (rule_params.zone)."""
    section = config.get("zone") or {}
    return bool(section.get("enabled", False)), [float(w) for w in section.get("weights") or []]


def load_zones(db: Database, matrix_path: str | Path, dates: np.ndarray) -> list[str] | None:
    """Replace the zone tables with the file's zones; drop them for a plain matrix."""
    found = read_zone_rows(matrix_path)
    if found is None:
        for name in (S.ZONE_PNL, S.ZONES):
            db.execute(f'DROP TABLE IF EXISTS "{name}"')
        return None
    zones, rows = found
    db.replace_table(S.ZONES, S.zones_table(zones))
    db.replace_table(S.ZONE_PNL, S.zone_pnl_table(dates, rows))
    return zones


def zone_filtered_matrix(
    db: Database,
    sessions: pa.Table,
    weights: list[float],
) -> tuple[Matrix, ZoneData]:
    """The date-filtered zone rows as ZoneData, and X (its collapse) as the matrix to prepare.

    `sessions`: the filtered sessions (stages.filtered_sessions has stored the range).
    """
    if S.ZONES not in db.tables():
        raise ConfigError(
            f"zone.enabled is true, but {db.describe()} holds no zones: the input has no "
            "Zone column (zone files have rows Date, Zone, Day, then strategies; docs/zones.md)"
        )
    zones = [str(z) for z in db.execute(f'SELECT "zone" FROM "{S.ZONES}" ORDER BY "zone_id"')[0]]
    db.replace_view(ZONE_FILTERED, sql_text("filter_zone_pnl"))
    strategies = db.execute(f'SELECT "strategy_id", "name", "label" FROM "{S.STRATEGIES}"')
    order = np.argsort(strategies.column("strategy_id").to_numpy())
    all_names = strategies.column("name").to_pylist()
    all_labels = strategies.column("label").to_pylist()
    names = [all_names[i] for i in order]
    labels = [all_labels[i] or "" for i in order]
    dates = S.as_date_array(sessions.column("date"))
    values = np.empty((len(dates), len(zones), len(names)), dtype=np.float64)
    for k, zone in enumerate(zones):  # one zone's rows at a time: memory
        rows = db.execute(
            f'SELECT "strategy_id", "date", "pnl" FROM "{ZONE_FILTERED}" WHERE "zone_id" = {k:d}'
        )
        values[:, k, :] = S.zone_slice_from_long(dates, len(names), rows, zone)
        del rows
    data = ZoneData(dates, zones, names, values, normalise_weights(weights or None, len(zones)))
    x = data.collapsed()
    long = Matrix(dates, [""] * len(dates), names, x, labels)
    db.replace_table(WEIGHTED_TABLE, S.pnl_table(long))
    # here, not at the top: db.compute imports pandas, which store_results
    # (importing this module for portfolio_zone_table) does not need
    from stratopt.db.compute import FILTERED_TABLE

    db.replace_view(FILTERED_TABLE, f'SELECT "strategy_id", "date", "pnl" FROM "{WEIGHTED_TABLE}"')
    days = [d or "" for d in sessions.column("day").to_pylist()]
    return Matrix(dates, days, names, x, labels), data


def prepared_zone_rows(data: ZoneData, order: np.ndarray, inverted: int) -> np.ndarray:
    """M as S x D x Z (the file's order) in the prepared column order, the last
    `inverted` strategies negated (ULTA): one copy."""
    rows = data.values.transpose(2, 0, 1)[order]
    if inverted:
        rows[len(order) - inverted :] *= -1.0
    return rows


def portfolio_zone_table(zones_path: str | Path | None) -> pa.Table | None:
    """Table "portfolio_zones" (size, zone, weight, roi, contribution) from the select
    stage's zones.json in zone mode; None in plain mode."""
    doc = contracts.ZONES.read_json_at(zones_path) if zones_path else None
    if doc is None or not doc["zone_mode"]:
        return None
    rows = [(s["size"], z) for s in doc["sizes"] for z in s["zones"]]
    return pa.table(
        {
            "size": pa.array([size for size, _ in rows], type=pa.int32()),
            "zone": pa.array([z["zone"] for _, z in rows], type=pa.string()),
            "weight": pa.array([z["weight"] for _, z in rows], type=pa.float64()),
            "roi": pa.array([z["roi"] for _, z in rows], type=pa.float64()),
            "contribution": pa.array([z["contribution"] for _, z in rows], type=pa.float64()),
        }
    )
