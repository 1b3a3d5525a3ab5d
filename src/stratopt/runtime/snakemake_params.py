"""Snakemake's fingerprint of `params:` without importing pandas.

Snakemake reruns a job whose params differ from those its last run stored.
To fingerprint a param it imports pandas whenever pandas is installed, in
case the param is a DataFrame: 0.4-0.8 s of CPU (2-core VM, 2026-12-01) in
the `snakemake` process itself, on the critical path of every run or dry run
that has outputs to check. The rules' params are plain YAML values
(stratopt.runtime.rule_params), which Snakemake's pandas-aware fingerprint
writes exactly as its plain one (repr), so the workflow asks for the plain
one. Where the installed Snakemake's persistence layer is not the expected
one, nothing is changed.
"""

from __future__ import annotations


def use_plain_param_fingerprints() -> bool:
    """Make Snakemake fingerprint params with its builtin serialiser; True if it was done."""
    try:
        from snakemake.persistence import PersistenceBase
    except ImportError:
        return False
    current = PersistenceBase.__dict__.get("_serialize_param")
    if not isinstance(current, property) or not hasattr(
        PersistenceBase, "_serialize_param_builtin"
    ):
        return False
    PersistenceBase._serialize_param = property(lambda self: self._serialize_param_builtin)
    return True
