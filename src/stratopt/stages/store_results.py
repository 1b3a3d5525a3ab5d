"""Rule `store_results`: the chosen portfolios written back as database tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.db import open_database
from stratopt.db.stages import store_results


def run(smk: Any) -> None:
    with open_database(smk.config, Path(smk.output.report).parent) as db:
        store_results(smk.input.portfolios, db, smk.output.report)
