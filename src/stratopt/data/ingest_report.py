"""What ingest.json records for any source (daily or zone files): shape, dates, names, checksums.

Both readers (stratopt.data.csv_text for daily files, stratopt.data.zone_ingest
for zone files) fill one IngestReport; its fields are the contract's
(stratopt.contracts.INGEST).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stratopt.data.matrix import Matrix

log = logging.getLogger(__name__)


@dataclass
class IngestReport:
    """What ingest.json records: shape, dates, names, checksum and warnings."""

    sources: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    blank_cells: dict[str, int] = field(default_factory=dict)

    def warn(self, message: str) -> None:
        log.warning(message)
        self.warnings.append(message)

    def to_dict(self, matrix: Matrix) -> dict[str, Any]:
        return {
            "rows": matrix.n_days,
            "strategies": matrix.n_strategies,
            "first_date": str(matrix.dates[0]) if matrix.n_days else None,
            "last_date": str(matrix.dates[-1]) if matrix.n_days else None,
            "dates": [str(d) for d in matrix.dates],
            "days": matrix.days,
            "periods_per_year": matrix.periods_per_year(),
            "sources": self.sources,
            "blank_cells_total": int(sum(self.blank_cells.values())),
            "blank_cells": self.blank_cells,
            "warnings": self.warnings,
            "names": matrix.names,
        }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_record(path: Path) -> dict[str, Any]:
    """One entry of ingest.json's `sources`: the file, its SHA-256 and size."""
    return {"path": str(path), "sha256": sha256_file(path), "bytes": path.stat().st_size}
