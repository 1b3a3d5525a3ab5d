"""Rule `select`: the best portfolio per size across the runs."""

from __future__ import annotations

from typing import Any

from stratopt.search.selection import select


def run(smk: Any) -> None:
    select(
        smk.input.matrix,
        list(smk.input.runs),
        smk.output.portfolios,
        smk.output.summary,
        smk.output.legacy,
    )
