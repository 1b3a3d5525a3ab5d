"""Snakemake handles the rules' `params:` without importing pandas.

Two places in Snakemake import pandas whenever it is installed, in case a
param is a DataFrame: the fingerprint of a job's params (its rerun trigger:
every run or dry run with outputs to check) and the hand-over of params to a
`script:` job (the first job of every run). Each costs the `snakemake`
process 0.4-0.8 s of CPU on the critical path (2-core VM, 2026-12-01). The
rules' params are plain YAML values (stratopt.runtime.rule_params), for which
Snakemake's pandas-aware code does exactly what its plain code does, so the
workflow takes the plain path for them: other values still go through
Snakemake's own code. Where the installed Snakemake is not laid out as
expected, nothing is changed.
"""

from __future__ import annotations

from typing import Any

#: The types the rules' params are made of (JSON's, as YAML gives them).
PLAIN = (type(None), bool, int, float, str, list, tuple, dict)


def is_plain(value: Any) -> bool:
    """A YAML-like value all the way down (no DataFrame, array or subclass anywhere)."""
    if type(value) in (list, tuple):
        return all(is_plain(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and is_plain(v) for k, v in value.items())
    return type(value) in PLAIN


def use_plain_param_fingerprints() -> bool:
    """Fingerprint plain params with Snakemake's builtin serialiser, others as Snakemake
    chooses; True if it was done."""
    try:
        from snakemake.persistence import PersistenceBase
    except ImportError:
        return False
    current = PersistenceBase.__dict__.get("_serialize_param")
    snakemakes = current.fget if isinstance(current, property) else None
    if snakemakes is None or not hasattr(PersistenceBase, "_serialize_param_builtin"):
        return False
    if getattr(snakemakes, "plain_first", False):
        return True

    def serialiser(self: Any) -> Any:
        def fingerprint(value: Any) -> Any:
            if is_plain(value):
                return self._serialize_param_builtin(value)
            return snakemakes(self)(value)

        return fingerprint

    serialiser.plain_first = True  # type: ignore[attr-defined]
    PersistenceBase._serialize_param = property(serialiser)
    return True


def use_plain_script_params() -> bool:
    """Hand plain params to script jobs without Snakemake's pandas/NumPy/polars
    conversions (which change none of them); True if it was done."""
    try:
        from snakemake.iocontainers import Params, Snakemake
    except ImportError:
        return False
    original = Snakemake.__dict__.get("_safely_store_params")
    if original is None or getattr(original, "plain_first", False):
        return original is not None

    def store(self: Any, params: Any) -> None:
        if not all(is_plain(v) for v in params):
            original(self, params)
            return
        self._params_store = Params(toclone=list(params))
        self._params_types = {}
        self._params_store._take_names(params._get_names())

    store.plain_first = True  # type: ignore[attr-defined]
    Snakemake._safely_store_params = store
    return True


def use_plain_params() -> bool:
    """Both of the above; True if both were done."""
    return use_plain_param_fingerprints() & use_plain_script_params()
