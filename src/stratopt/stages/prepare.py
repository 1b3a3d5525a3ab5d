"""Rule `prepare`: date filter, metrics and ULTA in the database -> prepared.parquet and reports."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.db.prepare import PrepareOutputs, prepare
from stratopt.db.rule_database import output_file, rule_database


def run(smk: Any) -> None:
    """input.db (worked on in a copy: output.db) -> output.prepared, ... output.report."""
    o = smk.output
    out = PrepareOutputs(
        Path(o.prepared),
        Path(o.metrics_csv),
        Path(o.metrics_parquet),
        Path(o.inversion_md),
        Path(o.inversion_parquet),
        Path(o.report),
    )
    database = output_file(o, "db"), output_file(smk.input, "db")
    with rule_database(smk.params.database, *database) as db:
        prepare(db, smk.params.settings, out)
