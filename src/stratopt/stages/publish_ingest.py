"""Rule `publish_ingest`: the staged matrix.parquet and ingest.json linked into place (docs/ingest.md)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from stratopt.runtime.staging import prune_stages, publish

log = logging.getLogger(__name__)


def run(smk: Any) -> None:
    publish(
        {"matrix": smk.input.matrix, "report": smk.input.report},
        {"matrix": smk.output.matrix, "report": smk.output.report},
    )
    for old in prune_stages(Path(smk.input.matrix).parent):
        log.info("removed %s, staged from an earlier source", old)
    log.info("published %s and %s", smk.output.matrix, smk.output.report)
