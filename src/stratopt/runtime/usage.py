"""What a stage cost: CPU (with waited-for children), wall and peak resident memory.

Every job's log ends with this line (stratopt.runtime.rule), read by
`stratopt bench pipeline` and by the chain job's benchmark files: a job's whole
cost from the interpreter's start, imports included, or, for stages chained in
one process (stratopt.runtime.chain), the stage's own from its start.

The peak (VmHWM) counts the shared libraries' pages mapped resident, and how
many are depends on the page cache, not on the code: on Linux 6.18 a library
just written by pip (large folios) maps whole folios, and libllvmlite.so alone
then adds ~40-60 MB to a numba job (docs/performance.md, "Memory: what the
page cache adds to a peak"). So the line also gives the resident memory at the
end, split into the process's own (anonymous) pages and file-backed ones: the
anonymous part is what the code decides.
"""

from __future__ import annotations

import contextlib
import math
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
    anon_mb: float = math.nan  # resident at the end: the process's own pages
    file_mb: float = math.nan  # resident at the end: mapped files (libraries)

    def __str__(self) -> str:
        text = f"cpu {self.cpu_s:.2f} s, wall {self.wall_s:.2f} s, peak rss {self.peak_mb:.0f} MB"
        if math.isfinite(self.anon_mb) and math.isfinite(self.file_mb):
            text += f", at the end anon {self.anon_mb:.0f} MB, files {self.file_mb:.0f} MB"
        return text


@dataclass(frozen=True)
class Clock:
    """A reading of this process's CPU (with waited-for children), age and peak memory."""

    cpu_s: float
    age_s: float
    peak_mb: float
    anon_mb: float = math.nan
    file_mb: float = math.nan

    @classmethod
    def now(cls, reset_peak: bool = False) -> Clock:
        if reset_peak:
            _reset_peak()
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
        status = _status_mb()
        peak = status.get("VmHWM", own.ru_maxrss / 1024.0)  # ru_maxrss: not Linux
        return cls(
            cpu,
            _process_age(),
            peak,
            status.get("RssAnon", math.nan),
            status.get("RssFile", math.nan),
        )

    @classmethod
    def process_start(cls) -> Clock:
        return cls(0.0, 0.0, 0.0)

    def since(self, start: Clock) -> StageUsage:
        return StageUsage(
            self.cpu_s - start.cpu_s,
            self.age_s - start.age_s,
            self.peak_mb,
            self.anon_mb,
            self.file_mb,
        )


#: The memory lines of /proc/self/status read: the peak since the start or the last
#: reset (VmHWM), and the resident pages now, the process's own and mapped files'.
STATUS_KEYS = ("VmHWM", "RssAnon", "RssFile")


def _status_mb() -> dict[str, float]:
    """STATUS_KEYS in MB from /proc/self/status (Linux; empty elsewhere)."""
    out: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in STATUS_KEYS:
                out[key] = int(value.split()[0]) / 1024.0
    except (OSError, ValueError, IndexError):
        return {}
    return out


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
