"""The database stage's engines (plugins in the `stratopt.databases` group)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt import registry
from stratopt.db.base import Database, DatabaseError

__all__ = ["Database", "DatabaseError", "open_database"]


def open_database(config: dict[str, Any], results_dir: str | Path) -> Database:
    """The configured engine (config database.backend, default duckdb), not yet connected."""
    backend = (config.get("database") or {}).get("backend", "duckdb")
    # registry.load: a bare `load` would be shadowed by the submodule stratopt.db.load
    cls = registry.load("databases", backend)
    return cls.from_config(config, results_dir)
