"""The Snakemake rule `bench`: the workload config.bench.workload on the dataset's input."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def bench_stage(smk: Any) -> None:
    """input[0] (the dataset's CSV) -> output.json (bench.json) and output.md (bench.md)."""
    from stratopt.bench.runner import run_bench
    from stratopt.bench.workload import load_workload

    workload = load_workload(str(smk.params.workload))
    out = Path(str(smk.output.json)).parent
    if Path(str(smk.output.md)).parent != out:
        raise ValueError("bench.json and bench.md must share a folder")
    run_bench(workload, out, input_path=str(smk.input[0]), say=log.info)
