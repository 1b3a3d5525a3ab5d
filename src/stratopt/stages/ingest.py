"""Rule `ingest`: the source file or folder -> matrix.parquet and ingest.json, checked against the config."""

from __future__ import annotations

import logging
from typing import Any

from stratopt.data.ingest import ingest
from stratopt.data.ingest_summary import read_summary
from stratopt.runtime.logs import to_log_file

log = logging.getLogger(__name__)


def run(smk: Any) -> None:
    ingest(smk.input[0], smk.output.matrix, smk.output.report, config=smk.config)
    # what was understood, in logs/ingest.log (publish_ingest shows it on the terminal)
    to_log_file(log, "\n" + read_summary(smk.output.report, smk.config))
