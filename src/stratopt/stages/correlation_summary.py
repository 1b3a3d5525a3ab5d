"""Rule `correlation_summary`: the shard summaries merged into correlation.json."""

from __future__ import annotations

from typing import Any

from stratopt.correlation.jobs import run_merge


def run(smk: Any) -> None:
    run_merge(list(smk.input.shards), smk.input.matrix, smk.output[0])
