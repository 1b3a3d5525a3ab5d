"""Rule `load_db`: matrix.parquet into the configured database (docs/database.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.db import open_database
from stratopt.db.stages import load_db


def run(smk: Any) -> None:
    with open_database(smk.config, Path(smk.output.report).parent) as db:
        load_db(smk.input.matrix, db, smk.output.report)
