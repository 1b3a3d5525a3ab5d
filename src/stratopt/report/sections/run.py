"""The run: the input (ingest.json), the seeds and configuration, the machine and versions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

from stratopt.report.machine import git_commit, machine, package_versions

#: ingest.json's figures shown in the run's table.
INGEST_FIGURES = (
    "rows",
    "strategies",
    "first_date",
    "last_date",
    "periods_per_year",
    "blank_cells_total",
)


def collect_run(
    ingest: Mapping[str, Any] | None, config: Mapping[str, Any] | None
) -> dict[str, Any]:
    """`ingest`: ingest.json as read through its contract (None: ingest did not run)."""
    summary = None
    sources: list[dict[str, Any]] = []
    if ingest is not None:
        summary = {key: ingest[key] for key in INGEST_FIGURES}
        summary["warnings"] = [str(w) for w in ingest["warnings"]][:50]
        sources = [{k: src[k] for k in ("path", "sha256", "bytes")} for src in ingest["sources"]]
    cfg = dict(config or {})
    seeds = {
        "input.synth_seed": (cfg.get("input") or {}).get("synth_seed"),
        "optimize.seed": (cfg.get("optimize") or {}).get("seed"),
    }
    return {
        "ingest": summary,
        "sources": sources,
        "config_yaml": yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None)
        if cfg
        else None,
        "seeds": {k: v for k, v in seeds.items() if v is not None},
        "packages": package_versions(),
        "git_commit": git_commit(),
        "machine": machine(),
    }
