"""The bridge from Snakemake rule scripts to the package.

Each script in scripts/ is `run_job(snakemake, some_stage_function)`: the
stage function takes the `snakemake` object and does the work; this module
sends logging to the rule's log file, turns errors into a clean exit and
readies the job's process to end quickly (`run_job`).
With profiling on (config `profiling.enabled` or STRATOPT_PROFILE=1) the
stage runs under py-spy (stratopt.runtime.profiling): py-spy attached to this
process where ptrace allows it, else the stage launched in a child under it.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stratopt.errors import StratoptError
from stratopt.runtime.logs import setup_logging
from stratopt.runtime.profiling import profile_stage, profiling_enabled
from stratopt.runtime.usage import Clock, StageUsage

StageFunction = Callable[[Any], None]


def run_rule(smk: Any, stage: StageFunction, *, chained: bool = False) -> StageUsage:
    """Run one stage for Snakemake, logging to the rule's first log file.

    The log is opened for appending (after truncating it once) because a
    profiled child (launch mode) writes to the same file while this process waits.
    The closing log line gives the job process's CPU, wall and peak memory from
    the interpreter's start (a job's whole cost, imports included); `chained`
    (several stages in one process, stratopt.runtime.chain) counts from the stage's
    start instead, the process's peak reset first where Linux allows it.
    """
    start = Clock.now(reset_peak=True) if chained else Clock.process_start()
    log = str(smk.log[0]) if len(smk.log) else None
    if log:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        Path(log).write_text("", encoding="utf-8")
    setup_logging(log, mode="a")
    logger = logging.getLogger("stratopt.runtime.rule")
    logger.info("rule %s: start", smk.rule)
    config = getattr(smk, "config", None)
    try:
        if profiling_enabled(config):
            profile_stage(smk, stage, config)
        else:
            stage(smk)
    except StratoptError as exc:
        # the rule's own log holds the error (Snakemake points the user there)
        logger.error("rule %s failed: %s", smk.rule, exc)
        raise SystemExit(1) from None
    except Exception:
        logger.exception("rule %s failed", smk.rule)
        raise
    usage = Clock.now().since(start)
    logger.info("rule %s: done (%s)", smk.rule, usage)
    return usage


def run_job(smk: Any, stage: StageFunction) -> StageUsage:
    """run_rule for a job's process, which ends when the stage is done.

    Why the gc.freeze(): at exit the interpreter clears its modules and runs the
    cyclic garbage collector over every object left, several times; a job that
    loaded numba's kernels holds over 100,000 of them (its type system), and the
    exit took 0.3-0.4 s of CPU and wall after the stage's last line (a search job
    at one size: 1.22-1.32 s against 0.81-0.88 s, docs/performance.md). Frozen,
    they are skipped: objects still die by their reference counts as the modules
    are cleared, and the stage's own garbage was collected before. Only for a
    process that ends now: in a long-lived one the frozen objects would never be
    collected.
    """
    usage = run_rule(smk, stage)
    ready_to_exit()
    return usage


def ready_to_exit() -> None:
    """Collect the process's cyclic garbage (finalizers run), then freeze the rest, so
    that the exit's collections skip it (run_job: the chain job's process too)."""
    gc.collect()
    gc.freeze()
