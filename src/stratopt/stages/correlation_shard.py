"""Rule `correlation_shard`: one shard of the all-pairs correlation (docs/correlation.md)."""

from __future__ import annotations

from typing import Any

from stratopt.correlation.jobs import run_shard
from stratopt.correlation.settings import CorrelationSettings


def run(smk: Any) -> None:
    settings = CorrelationSettings.from_config(smk.config.get("correlation"))
    run_shard(smk.input[0], smk.output[0], int(smk.wildcards.shard), settings)
