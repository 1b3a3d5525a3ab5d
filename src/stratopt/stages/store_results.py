"""Rule `store_results`: the chosen portfolios written back as database tables."""

from __future__ import annotations

from typing import Any

from stratopt.db.load import store_results
from stratopt.db.rule_database import output_file, rule_database


def run(smk: Any) -> None:
    """input.portfolios -> tables in a copy of input.db (output.db); output.report."""
    database = output_file(smk.output, "db"), output_file(smk.input, "db")
    with rule_database(smk.params.database, *database) as db:
        store_results(smk.input.portfolios, db, smk.output.report, output_file(smk.input, "zones"))
