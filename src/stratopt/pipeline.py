"""The bridge from Snakemake rule scripts to the package.

Each script in scripts/ is `run_rule(snakemake, some_stage_function)`: the
stage function takes the `snakemake` object and does the work; this module
sends logging to the rule's log file and turns errors into a clean exit.
With profiling on (config `profiling.enabled` or STRATOPT_PROFILE=1) the
stage runs under py-spy (stratopt.profiling): py-spy attached to this
process where ptrace allows it, else the stage launched in a child under it.
"""

from __future__ import annotations

import logging
import os
import resource
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stratopt.errors import StratoptError
from stratopt.profiling import profile_stage, profiling_enabled

StageFunction = Callable[[Any], None]


def setup_logging(log_path: str | None, mode: str = "w") -> None:
    """Log to stderr and the rule's log; mode "a" for a profiled child sharing it."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_path:
        handlers.append(logging.FileHandler(log_path, mode=mode, encoding="utf-8"))
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def run_rule(smk: Any, stage: StageFunction) -> None:
    """Run one stage for Snakemake, logging to the rule's first log file.

    The log is opened for appending (after truncating it once) because a
    profiled child (launch mode) writes to the same file while this process waits.
    """
    log = str(smk.log[0]) if len(smk.log) else None
    if log:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        Path(log).write_text("", encoding="utf-8")
    setup_logging(log, mode="a")
    logger = logging.getLogger("stratopt.pipeline")
    logger.info("rule %s: start", smk.rule)
    config = getattr(smk, "config", None)
    if profiling_enabled(config):
        try:
            profile_stage(smk, stage, config)
        except StratoptError as exc:
            logger.error("%s", exc)
            raise SystemExit(1) from exc
    else:
        stage(smk)
    logger.info("rule %s: done (%s)", smk.rule, process_usage())


def process_usage() -> str:
    """This job process's CPU (its own and its waited-for children's, from the interpreter's
    start: imports included), wall since start and peak resident memory, for the log."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    wall = _process_age()
    return f"cpu {cpu:.2f} s, wall {wall:.2f} s, peak rss {own.ru_maxrss / 1024:.0f} MB"


def _process_age() -> float:
    """Seconds since this process started (Linux /proc, 10 ms resolution; NaN elsewhere)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")
