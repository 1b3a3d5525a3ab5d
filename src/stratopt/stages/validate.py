"""Rule `validate`: walk-forward out-of-sample validation (docs/validation.md)."""

from __future__ import annotations

from typing import Any

from stratopt.validation.stage import validate


def run(smk: Any) -> None:
    """matrix.parquet -> validation.json, validation_oos.parquet; settings from the params."""
    validate(smk.input.matrix, dict(smk.params.config), smk.output.json, smk.output.oos)
