"""Helpers shared by the search tests: the real sample, prepared as the pipeline does."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stratopt.data.ingest import read_source
from stratopt.data.matrix import Matrix, write_matrix
from stratopt.engine.reference import apply_ulta


def prepared_sample(sample_csv: Path) -> Matrix:
    """The 500 real strategies with ULTA applied (what prepared.parquet holds)."""
    matrix, _ = read_source(sample_csv)
    inverted, _ = apply_ulta(matrix)
    return inverted


def write_prepared(sample_csv: Path, path: Path) -> Path:
    write_matrix(prepared_sample(sample_csv), path, extra={"ulta": True})
    return path


def results_without_timing(run_json: Path) -> dict[str, Any]:
    """A runs/{algorithm}.json with the wall-clock fields removed (they vary run to run)."""
    doc = json.loads(run_json.read_text())
    for rec in doc["sizes"]:
        rec.pop("seconds")
    doc["input"].pop("path")  # differs between working directories
    return doc
