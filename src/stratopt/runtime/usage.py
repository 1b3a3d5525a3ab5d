"""What a stage cost: CPU (with waited-for children), wall and peak resident memory.

Every job's log ends with this line (stratopt.runtime.rule), read by
`stratopt bench pipeline` and by the chain job's benchmark files: a job's whole
cost from the interpreter's start, imports included, or, for stages chained in
one process (stratopt.runtime.chain), the stage's own from its start.
"""

from __future__ import annotations

import contextlib
import os
import resource
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StageUsage:
    """What one stage cost: CPU (with waited-for children), wall, peak resident memory."""

    cpu_s: float
    wall_s: float
    peak_mb: float

    def __str__(self) -> str:
        return f"cpu {self.cpu_s:.2f} s, wall {self.wall_s:.2f} s, peak rss {self.peak_mb:.0f} MB"


@dataclass(frozen=True)
class Clock:
    """A reading of this process's CPU (with waited-for children), age and peak memory."""

    cpu_s: float
    age_s: float
    peak_mb: float

    @classmethod
    def now(cls, reset_peak: bool = False) -> Clock:
        if reset_peak:
            _reset_peak()
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
        return cls(cpu, _process_age(), _peak_mb())

    @classmethod
    def process_start(cls) -> Clock:
        return cls(0.0, 0.0, 0.0)

    def since(self, start: Clock) -> StageUsage:
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
