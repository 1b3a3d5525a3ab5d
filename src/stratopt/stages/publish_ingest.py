"""Rule `publish_ingest`: the staged matrix.parquet and ingest.json linked into place (docs/ingest.md).

It also shows what ingest understood of the data (stratopt.data.ingest_summary):
a local rule, it runs where `snakemake` was started, so the summary reaches
the user's terminal before any later stage starts, on a cluster too.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from stratopt.data.ingest_summary import read_summary
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
    log.info("the data, as read:\n\n%s\n", read_summary(smk.output.report, smk.config))
