"""Rule `load_db`: matrix.parquet into the configured database (docs/database.md)."""

from __future__ import annotations

from typing import Any

from stratopt.db.load import load_db
from stratopt.db.rule_database import output_file, rule_database


def run(smk: Any) -> None:
    """input.matrix -> output.report, and output.db (the rule's own DuckDB file)."""
    with rule_database(smk.params.database, output_file(smk.output, "db")) as db:
        load_db(smk.input.matrix, db, smk.output.report)
