"""The bridge from Snakemake rule scripts to the package.

Each script in scripts/ is `run_rule(snakemake, some_stage_function)`: the
stage function takes the `snakemake` object and does the work; this module
sends logging to the rule's log file and turns errors into a clean exit.
With profiling on (config `profiling.enabled` or STRATOPT_PROFILE=1) the
stage runs under py-spy (stratopt.profiling): py-spy attached to this
process where ptrace allows it, else the stage launched in a child under it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import sys
from collections.abc import Callable
from dataclasses import dataclass
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


@dataclass(frozen=True)
class StageUsage:
    """What one stage cost: CPU (with waited-for children), wall, peak resident memory."""

    cpu_s: float
    wall_s: float
    peak_mb: float

    def __str__(self) -> str:
        return f"cpu {self.cpu_s:.2f} s, wall {self.wall_s:.2f} s, peak rss {self.peak_mb:.0f} MB"


def run_rule(smk: Any, stage: StageFunction, *, chained: bool = False) -> StageUsage:
    """Run one stage for Snakemake, logging to the rule's first log file.

    The log is opened for appending (after truncating it once) because a
    profiled child (launch mode) writes to the same file while this process waits.
    The closing log line gives the job process's CPU, wall and peak memory from
    the interpreter's start (a job's whole cost, imports included); `chained`
    (several stages in one process, stratopt.chain) counts from the stage's
    start instead, the process's peak reset first where Linux allows it.
    """
    start = _Clock.now(reset_peak=True) if chained else _Clock.process_start()
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
    usage = _Clock.now().since(start)
    logger.info("rule %s: done (%s)", smk.rule, usage)
    return usage


@dataclass(frozen=True)
class _Clock:
    """A reading of this process's CPU (with waited-for children), age and peak memory."""

    cpu_s: float
    age_s: float
    peak_mb: float

    @classmethod
    def now(cls, reset_peak: bool = False) -> _Clock:
        if reset_peak:
            _reset_peak()
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
        return cls(cpu, _process_age(), _peak_mb())

    @classmethod
    def process_start(cls) -> _Clock:
        return cls(0.0, 0.0, 0.0)

    def since(self, start: _Clock) -> StageUsage:
        return StageUsage(self.cpu_s - start.cpu_s, self.age_s - start.age_s, self.peak_mb)


def _peak_mb() -> float:
    """Peak resident memory since the process started or its last reset (VmHWM)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _reset_peak() -> None:
    """Reset VmHWM to the current resident size (Linux: clear_refs 5); else keep it."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _process_age() -> float:
    """Seconds since this process started (Linux /proc, 10 ms resolution; NaN elsewhere)."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return uptime - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")
