"""Snakemake handles the rules' params without pandas, and exactly as before.

stratopt.runtime.snakemake_params gives Snakemake a plain path for plain
params, in its rerun trigger (the params' fingerprint) and in the hand-over
of params to script jobs. Neither may change: every param of every rule, for
a config with all the schema's defaults, must get the same fingerprint from
both paths and reach a script job as it did; other values keep Snakemake's
own path.
"""

from __future__ import annotations

import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
from snakemake.iocontainers import Params, Snakemake
from snakemake.persistence import UNREPRESENTABLE, PersistenceBase
from snakemake.utils import validate

from stratopt.runtime import rule_params
from stratopt.runtime.snakemake_params import (
    is_plain,
    use_plain_param_fingerprints,
    use_plain_script_params,
)

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


def every_rules_params() -> list[tuple[str, Params]]:
    config = full_config()
    return [
        (rule, Params(fromdict=rule_params.for_rule(rule, config))) for rule in rule_params.RULES
    ]


def test_every_rules_params_get_the_same_fingerprint_from_both() -> None:
    def plain(value: Any) -> Any:
        return PersistenceBase._serialize_param_builtin(None, value)

    holder = types.SimpleNamespace(_serialize_param_builtin=plain)
    for rule, params in every_rules_params():
        assert len(params) >= 1
        for value in params:
            assert is_plain(value), (rule, value)
            fingerprint = plain(value)
            assert fingerprint is not UNREPRESENTABLE, (rule, value)
            assert PersistenceBase._serialize_param_pandas(holder, value) == fingerprint


def test_script_jobs_get_the_same_params_from_both() -> None:
    original = Snakemake.__dict__["_safely_store_params"]
    try:
        assert use_plain_script_params()
        plain = Snakemake.__dict__["_safely_store_params"]
        assert plain is not original
        extra = [("array", Params(fromdict={"a": np.arange(3), "b": {"c": 1}}))]
        for rule, params in [*every_rules_params(), *extra]:
            a, b = types.SimpleNamespace(), types.SimpleNamespace()
            original(a, params)
            plain(b, params)
            assert list(a._params_store) == list(b._params_store), rule
            assert list(a._params_store._get_names()) == list(b._params_store._get_names()), rule
            assert a._params_types == b._params_types, rule
        assert b._params_types == {0: "np.ndarray"}  # not plain: Snakemake's own path
    finally:
        Snakemake._safely_store_params = original


def test_plain_params_reach_a_script_job_without_pandas() -> None:
    """In a fresh interpreter, as in the `snakemake` process that starts the jobs."""
    code = """
import sys
from stratopt.runtime.snakemake_params import use_plain_params
assert use_plain_params()
from snakemake.iocontainers import InputFiles, Log, OutputFiles, Params, ResourceList
from snakemake.iocontainers import Snakemake, Wildcards
params = Params(fromdict={"database": {"backend": "duckdb"}, "settings": {"x": [1, 2.5, None]}})
job = Snakemake(InputFiles(), OutputFiles(), params, Wildcards(), 1, ResourceList(), Log(), {},
                "prepare", None)
assert job.params.settings == {"x": [1, 2.5, None]} and job.params.database["backend"] == "duckdb"
print(sorted(m for m in ("pandas", "numpy", "polars") if m in sys.modules))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip() == "[]"


def test_the_fingerprint_swap_keeps_snakemakes_own_for_other_values() -> None:
    before = PersistenceBase.__dict__["_serialize_param"]
    try:
        assert use_plain_param_fingerprints() and use_plain_param_fingerprints()  # idempotent
        swapped = PersistenceBase.__dict__["_serialize_param"]

        class Holder:  # hashable, as Snakemake's cached choice of serialiser needs
            def _serialize_param_builtin(self, value: Any) -> Any:
                return ("plain", value)

            def _serialize_param_pandas(self, value: Any) -> Any:
                return ("pandas", value)

        holder = Holder()
        fingerprint = swapped.fget(holder)
        assert fingerprint({"a": [1]}) == ("plain", {"a": [1]})
        frame = types.SimpleNamespace()  # anything not plain: Snakemake's own choice
        assert fingerprint(frame)[1] is frame
        assert fingerprint(frame) == before.fget(holder)(frame)
    finally:
        PersistenceBase._serialize_param = before


def test_only_yaml_like_values_are_plain() -> None:
    assert is_plain({"a": [1, 2.0, None, True, "x", {"b": (1,)}]})
    assert not is_plain({"a": np.float64(1.0)})
    assert not is_plain([np.arange(2)])
    assert not is_plain({1: "key not text"})
    assert not is_plain(Path("x"))
