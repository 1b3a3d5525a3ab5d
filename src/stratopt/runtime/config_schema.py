"""The pipeline config's schema (workflow/schemas/config.schema.yaml), for code outside Snakemake.

Snakemake validates the config at start-up (common.smk); commands that write
a config (`stratopt config from-ini`) validate theirs against the same schema
first, so that what they write is what the workflow accepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stratopt.errors import ConfigError

SCHEMA = Path(__file__).resolve().parents[3] / "workflow" / "schemas" / "config.schema.yaml"


def load_schema(path: Path = SCHEMA) -> dict[str, Any]:
    import yaml

    if not path.exists():
        raise ConfigError(f"config schema not found at {path} (stratopt runs from its checkout)")
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def validate_config(config: dict[str, Any], path: Path = SCHEMA) -> None:
    """ConfigError naming the first key the schema refuses (unknown keys included)."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(load_schema(path))
    errors = sorted(validator.iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = ".".join(str(p) for p in first.absolute_path) or "(top level)"
        raise ConfigError(f"config key {where}: {first.message}")
