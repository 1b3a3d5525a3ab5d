"""Every stage of the pipeline in one process: the `chain` rule for small inputs.

Why: a Snakemake job costs a process start, Snakemake's script preamble,
the stage's imports and (for the search and correlation stages) loading the
numba kernels: about a second of CPU per job, plus Snakemake's own work per
job. On the real 500-strategy sample the stages themselves take a fraction
of that, so one job per stage spent most of the run starting processes.
The chain rule (workflow/rules/chain.smk, config `chain.mode`) runs the same
stage functions, in the same order, on the same inputs and outputs, in one
process: the files are those of a run with one job per stage.

Each stage still gets its own log file, its closing line (CPU, wall, peak
resident memory of the stage alone) and a benchmark file in Snakemake's
format (benchmarks/{rule}.tsv, written by this process), so that the report
and `stratopt bench pipeline` read a chained run like any other.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratopt.runtime.atomic import write_text
from stratopt.runtime.context import NamedList, RuleContext
from stratopt.runtime.rule import StageUsage, run_rule

BENCHMARK_HEADER = (
    "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time"
)


def stage_function(rule: str) -> Callable[[Any], None]:
    """The function the rule's own script calls: stratopt.stages.<rule>.run."""
    return importlib.import_module(f"stratopt.stages.{rule}").run


@dataclass(frozen=True)
class ChainedStage:
    """A stage imported when it runs, so that its closing line counts its imports, as a
    job of its own does (picklable by reference, for a profiled stage's child)."""

    rule: str

    def __call__(self, smk: Any) -> None:
        stage_function(self.rule)(smk)


def named(spec: Mapping[str, Any] | None) -> NamedList:
    """A NamedList from the plan's plain form {"items": [...], "names": {name: i | [start, end]}}."""
    if not spec:
        return NamedList()
    names = {k: tuple(v) if isinstance(v, list) else v for k, v in spec["names"].items()}
    return NamedList(spec["items"], names)


def context(step: Mapping[str, Any], config: dict[str, Any], threads: int) -> RuleContext:
    """The `snakemake` object the step's own rule would have received."""
    return RuleContext(
        rule=step["rule"],
        input=named(step.get("input")),
        output=named(step.get("output")),
        params=named(step.get("params")),
        wildcards=named(step.get("wildcards")),
        log=named(step.get("log")),
        threads=max(1, min(int(step.get("threads", 1)), threads)),
        config=config,
    )


def write_benchmark(path: str | Path, usage: StageUsage) -> None:
    """One row in Snakemake's benchmark format; what this process cannot tell is NA."""
    s = usage.wall_s
    hms = time.strftime("%H:%M:%S", time.gmtime(s))
    row = [f"{s:.4f}", hms, f"{usage.peak_mb:.2f}", "NA", "NA", "NA", "NA", "NA", "NA"]
    write_text(path, BENCHMARK_HEADER + "\n" + "\t".join(row + [f"{usage.cpu_s:.2f}"]) + "\n")


def run_chain(smk: Any) -> None:
    """Rule `chain`: each planned step, in order, as its own rule would run it."""
    config = dict(smk.config)
    for step in smk.params.plan:
        ctx = context(step, config, int(smk.threads))
        usage = run_rule(ctx, ChainedStage(step["rule"]), chained=True)
        if step.get("benchmark"):
            write_benchmark(step["benchmark"], usage)
