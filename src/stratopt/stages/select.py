"""Rule `select`: the best portfolio per size across the runs, and zones.json."""

from __future__ import annotations

from typing import Any

from stratopt.search.selection import select
from stratopt.search.zone_outputs import write_zone_document


def run(smk: Any) -> None:
    select(
        smk.input.matrix,
        list(smk.input.runs),
        smk.output.portfolios,
        smk.output.summary,
        smk.output.legacy,
    )
    write_zone_document(smk.input.matrix, smk.output.portfolios, smk.output.zones)
