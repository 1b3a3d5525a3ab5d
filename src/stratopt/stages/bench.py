"""Rule `bench`: the side-by-side benchmark of config bench.workload (docs/benchmark.md)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def run(smk: Any) -> None:
    from stratopt.bench.sidebyside.runner import run_bench
    from stratopt.bench.sidebyside.workloads import load_workload

    workload = load_workload(str(smk.params.workload))
    out = Path(str(smk.output.json)).parent
    if Path(str(smk.output.md)).parent != out:
        raise ValueError("bench.json and bench.md must share a folder")
    run_bench(workload, out, input_path=str(smk.input[0]), say=log.info)
