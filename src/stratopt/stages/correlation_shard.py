"""Rule `correlation_shard`: one shard of the all-pairs correlation (docs/correlation.md)."""

from __future__ import annotations

from typing import Any

from stratopt.correlation.jobs import run_shard
from stratopt.correlation.settings import CorrelationSettings


def run(smk: Any) -> None:
    """Settings from the rule's params (rule_params.correlation), never the whole config."""
    settings = CorrelationSettings.from_config(dict(smk.params.correlation))
    shard = int(smk.wildcards.shard)
    run_shard(smk.input[0], smk.output[0], shard, settings, threads=int(smk.threads))
