"""Rule `ingest`: the source file or folder -> matrix.parquet and ingest.json, checked against the config."""

from __future__ import annotations

from typing import Any

from stratopt.data.ingest import ingest


def run(smk: Any) -> None:
    ingest(smk.input[0], smk.output.matrix, smk.output.report, config=smk.config)
