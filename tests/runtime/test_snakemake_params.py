"""Snakemake fingerprints the rules' params without pandas, and alike.

stratopt.runtime.snakemake_params swaps Snakemake's pandas-aware param
fingerprint for its plain one. The rerun trigger must not change: every
param of every rule, for a config with all the schema's defaults, must get
the same fingerprint from both, and a representable one.
"""

from __future__ import annotations

import types
from pathlib import Path
from typing import Any

from snakemake.persistence import UNREPRESENTABLE, PersistenceBase
from snakemake.utils import validate

from stratopt.runtime import rule_params
from stratopt.runtime.snakemake_params import use_plain_param_fingerprints

REPO = Path(__file__).resolve().parents[2]


def full_config() -> dict[str, Any]:
    config: dict[str, Any] = {
        "dataset": "params",
        "input": {"source": "x.csv"},
        "zone": {"enabled": True, "weights": [0.5, 0.5]},
        "date_range": {"start": "2024-01-01", "end": "2024-06-30"},
    }
    validate(config, str(REPO / "workflow" / "schemas" / "config.schema.yaml"))
    return config


def test_every_rules_params_get_the_same_fingerprint_from_both() -> None:
    def plain(value: Any) -> Any:
        return PersistenceBase._serialize_param_builtin(None, value)

    holder = types.SimpleNamespace(_serialize_param_builtin=plain)
    config = full_config()
    seen = 0
    for rule in rule_params.RULES:
        for value in rule_params.for_rule(rule, config).values():
            fingerprint = plain(value)
            assert fingerprint is not UNREPRESENTABLE, (rule, value)
            assert PersistenceBase._serialize_param_pandas(holder, value) == fingerprint
            seen += 1
    assert seen >= len(rule_params.RULES)


def test_the_swap_finds_snakemakes_fingerprint() -> None:
    before = PersistenceBase.__dict__["_serialize_param"]
    try:
        assert use_plain_param_fingerprints()
        swapped = PersistenceBase.__dict__["_serialize_param"]
        holder = types.SimpleNamespace(_serialize_param_builtin="plain")
        assert swapped.fget(holder) == "plain"
    finally:
        PersistenceBase._serialize_param = before
