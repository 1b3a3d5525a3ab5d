"""Rule `prepare`: date filter, metrics and ULTA in the database -> prepared.parquet and reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.db import open_database
from stratopt.db.stages import PrepareOutputs, prepare


def run(smk: Any) -> None:
    o = smk.output
    out = PrepareOutputs(
        Path(o.prepared),
        Path(o.metrics_csv),
        Path(o.metrics_parquet),
        Path(o.inversion_md),
        Path(o.inversion_parquet),
        Path(o.report),
    )
    with open_database(smk.config, Path(o.report).parent) as db:
        prepare(db, smk.config, out)
