"""Measuring one piece of work: wall time, CPU time and peak resident memory.

Each repetition runs in a fresh child process so that its peak resident set
is its own (os.wait4 returns the child's rusage); wall and CPU time are
measured inside the child around the call alone, so interpreter start-up and
imports are not counted, while the peak memory is the whole process's.
Medians are taken over repetitions. A function is named by "module:function" and given JSON-able
keyword arguments, so the child imports it the way a user's process would.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass

_CHILD = """
import importlib, json, sys, time
mod, _, fn = sys.argv[1].partition(":")
kwargs = json.loads(sys.argv[2])
func = getattr(importlib.import_module(mod), fn)
wall, cpu = time.perf_counter(), time.process_time()
func(**kwargs)
wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
with open(sys.argv[3], "w") as out:
    json.dump({"wall_s": wall, "cpu_s": cpu}, out)
"""


@dataclass(frozen=True)
class Sample:
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


@dataclass(frozen=True)
class Summary:
    name: str
    runs: int
    wall_s: float  # median
    cpu_s: float  # median
    peak_rss_mb: float  # median of per-run peaks
    samples: list[Sample]

    def to_dict(self) -> dict:
        return asdict(self)


def run_isolated(target: str, kwargs: dict | None = None, env: dict | None = None) -> Sample:
    """Run `target(**kwargs)` in a child Python; raise if it fails."""
    with tempfile.TemporaryDirectory() as tmp:
        result = os.path.join(tmp, "timing.json")
        argv = [sys.executable, "-c", _CHILD, target, json.dumps(kwargs or {}), result]
        with tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(argv, env={**os.environ, **(env or {})}, stderr=err)
            _, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            if proc.returncode != 0:
                err.seek(0)
                text = err.read().decode(errors="replace")
                raise RuntimeError(
                    f"benchmark child {target} failed ({proc.returncode}):\n{text[-4000:]}"
                )
        with open(result) as fh:
            timing = json.load(fh)
    return Sample(
        wall_s=timing["wall_s"],
        cpu_s=timing["cpu_s"],
        peak_rss_mb=usage.ru_maxrss / 1024.0,  # Linux reports KiB
    )


def summarise(name: str, samples: list[Sample]) -> Summary:
    return Summary(
        name=name,
        runs=len(samples),
        wall_s=statistics.median(s.wall_s for s in samples),
        cpu_s=statistics.median(s.cpu_s for s in samples),
        peak_rss_mb=statistics.median(s.peak_rss_mb for s in samples),
        samples=samples,
    )


def compare(targets: dict[str, tuple[str, dict]], repeats: int) -> dict[str, Summary]:
    """Run several targets alternately, `repeats` times each, and summarise each."""
    samples: dict[str, list[Sample]] = {name: [] for name in targets}
    for _ in range(repeats):
        for name, (target, kwargs) in targets.items():
            samples[name].append(run_isolated(target, kwargs))
    return {name: summarise(name, s) for name, s in samples.items()}


def format_table(rows: list[Summary], baseline: str | None = None) -> str:
    """A plain-text table; with a baseline, the ratio baseline / row for wall time."""
    base = next((r for r in rows if r.name == baseline), None)
    head = f"{'what':<34} {'runs':>4} {'wall s':>9} {'cpu s':>9} {'peak MB':>9}"
    if base:
        head += f" {'speedup':>8}"
    lines = [head, "-" * len(head)]
    for r in rows:
        line = f"{r.name:<34} {r.runs:>4} {r.wall_s:>9.3f} {r.cpu_s:>9.3f} {r.peak_rss_mb:>9.1f}"
        if base:
            line += f" {base.wall_s / r.wall_s:>7.2f}x" if r.wall_s > 0 else f" {'-':>8}"
        lines.append(line)
    return "\n".join(lines)
