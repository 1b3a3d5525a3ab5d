"""Zone mode's own output: each chosen portfolio's P&L by zone (zones.json; docs/zones.md).

The select stage writes zones.json beside summary.json: in zone mode, for
every size's winner, each zone's weight, the portfolio's P&L in that zone
over all dates (`roi`) and its `contribution` (weight x roi; they add up to
the ROI of the zone-weighted series the search maximised); in plain mode just
`{"zone_mode": false}`, so the file always exists and says which mode ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from stratopt import contracts
from stratopt.data.matrix import check_parquet
from stratopt.data.zone_matrix import read_zone_data
from stratopt.runtime.atomic import write_json


def zone_document(prepared_path: str | Path, portfolios_path: str | Path) -> dict[str, Any]:
    """zones.json's content for the select stage's portfolios.parquet."""
    data = read_zone_data(prepared_path)
    if data is None:
        return {"zone_mode": False}
    check_parquet(contracts.PORTFOLIOS, portfolios_path)
    columns = ["size", "algorithm", "fitness", "best_overall", "indices"]
    sizes = []
    for row in pq.read_table(portfolios_path, columns=columns).to_pylist():
        parts = data.contributions(row["indices"])
        sizes.append(
            {
                "size": int(row["size"]),
                "algorithm": row["algorithm"],
                "fitness": float(row["fitness"]),
                "best_overall": bool(row["best_overall"]),
                "roi": float(sum(p["contribution"] for p in parts)),
                "zones": parts,
            }
        )
    best = next((s for s in sizes if s["best_overall"]), None)
    return {
        "zone_mode": True,
        "zones": list(data.zones),
        "weights": data.weights.tolist(),
        "sizes": sizes,
        "best_overall": best,
    }


def write_zone_document(
    prepared_path: str | Path, portfolios_path: str | Path, out: str | Path
) -> dict[str, Any]:
    doc = zone_document(prepared_path, portfolios_path)
    write_json(out, contracts.ZONES.checked(doc))
    return doc
