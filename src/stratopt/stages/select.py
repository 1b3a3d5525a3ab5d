"""Rule `select`: the best portfolio per size across the runs, and zones.json."""

from __future__ import annotations

from typing import Any

from stratopt.selection.select import select
from stratopt.selection.zones import write_zone_document


def run(smk: Any) -> None:
    """Runs (and validation.json when validate ran) -> portfolios, summary, legacy files."""
    choice = dict(smk.params.choice)
    select(
        smk.input.matrix,
        list(smk.input.runs),
        smk.output.portfolios,
        smk.output.summary,
        smk.output.legacy,
        validation_path=smk.input.get("validation"),
        flag_drawdown_below=float(choice["flag_drawdown_below"]),
        objective=choice,
        threads=int(smk.threads),
    )
    write_zone_document(smk.input.matrix, smk.output.portfolios, smk.output.zones)
