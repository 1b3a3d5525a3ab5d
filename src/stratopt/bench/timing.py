"""Measuring one piece of work in a fresh child process: wall time, CPU time, peak memory.

Every benchmark measures through this module. A function is named by
"module:function" and given JSON-able keyword arguments, so the child imports
it the way a user's process would. Wall and CPU time are measured inside the
child around the call alone (interpreter start-up and imports are not
counted), while the peak resident set is the whole child's (os.wait4).

A process started by fork/vfork + exec inherits its parent's peak-RSS
high-water mark, so every measured process is started by a small launcher
(a fresh stdlib-only interpreter, about 10 MB) rather than by the
benchmark's parent: the measured peak is the child's own.

Three entry points:
- run_isolated: one call, CPU time of the child process itself (what the
  `stratopt bench AREA` micro-benchmarks compare; medians by compare/summarise);
- run_stage: one stage of the side-by-side benchmark. Its CPU time counts
  the stage's own child processes too (a worker pool, an external command:
  RUSAGE_SELF + RUSAGE_CHILDREN). A stage may return a zero-argument
  callable: the call itself was then set-up owed to an earlier stage (the
  baseline search rebuilds the dense correlation matrix it needs, 5.2 GB at
  production size, which cannot be handed over cheaply) and only the
  callable is timed, the set-up recorded apart; the peak RSS includes the
  set-up, as the legacy holds that matrix during its search too. A stage may
  return a small JSON-able dict (e.g. per-size seconds); it comes back.
- run_command: an external command, timed as a whole.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any

from stratopt.errors import StratoptError

# argv: target, kwargs (JSON), result path, "tree" (count children's CPU) or "self"
_CHILD = """
import importlib, json, resource, sys, time
tree = sys.argv[4] == "tree"
def cpu():
    if not tree:
        return time.process_time()
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
mod, _, fn = sys.argv[1].partition(":")
kwargs = json.loads(sys.argv[2])
func = getattr(importlib.import_module(mod), fn)
setup = None
w0, c0 = time.perf_counter(), cpu()
out = func(**kwargs)
if tree and callable(out):
    setup = {"wall_s": time.perf_counter() - w0, "cpu_s": cpu() - c0}
    w0, c0 = time.perf_counter(), cpu()
    out = out()
wall, used = time.perf_counter() - w0, cpu() - c0
with open(sys.argv[3], "w") as fh:
    json.dump({"wall_s": wall, "cpu_s": used, "setup": setup,
               "result": out if tree and isinstance(out, dict) else None}, fh)
"""

# The launcher between the benchmark's parent and each measured process.
_LAUNCHER = """
import json, os, subprocess, sys, time
argv, cwd, out_path, log_path = json.loads(sys.argv[1])
with open(log_path, "wb") as log:
    start = time.perf_counter()
    try:
        proc = subprocess.Popen(argv, cwd=cwd, stdout=log if cwd is not None else None, stderr=log)
    except OSError as exc:
        log.write(("cannot start %r: %s" % (argv[0], exc)).encode())
        sys.exit(127)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
with open(out_path, "w") as fh:
    json.dump({"code": os.waitstatus_to_exitcode(status), "maxrss_kb": ru.ru_maxrss,
               "cpu_s": ru.ru_utime + ru.ru_stime, "wall_s": wall}, fh)
"""


class StageFailed(StratoptError, RuntimeError):
    """A measured child exited with an error (its stderr tail is in the message)."""


@dataclass(frozen=True)
class Sample:
    """One run_isolated measurement."""

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


@dataclass
class StageSample:
    """One run of one side-by-side stage (run_stage) or external command (run_command)."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    setup: dict[str, float] | None = None
    result: dict[str, Any] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _launch(
    argv: list[str], cwd: str | None, log_path: str, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run `argv` under the launcher; its exit code, peak RSS (KiB), CPU and wall seconds."""
    with tempfile.TemporaryDirectory(prefix="stratopt-launch-") as tmp:
        out = os.path.join(tmp, "usage.json")
        spec = json.dumps([argv, cwd, out, log_path])
        launcher = [sys.executable, "-I", "-S", "-c", _LAUNCHER, spec]
        subprocess.run(launcher, env={**os.environ, **(env or {})}, check=False)
        if not os.path.exists(out):
            return {"code": 127, "maxrss_kb": 0, "cpu_s": 0.0, "wall_s": 0.0}
        with open(out) as fh:
            return json.load(fh)


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read()[-4000:].decode(errors="replace")
    except OSError:
        return ""


def _run_child(
    target: str, kwargs: dict[str, Any] | None, env: dict[str, str] | None, tree: bool
) -> tuple[dict[str, Any], float]:
    """The child's own timing record and its peak RSS in MB; StageFailed if it fails."""
    with tempfile.TemporaryDirectory(prefix="stratopt-bench-") as tmp:
        result = os.path.join(tmp, "timing.json")
        err = os.path.join(tmp, "stderr.txt")
        mode = "tree" if tree else "self"
        argv = [sys.executable, "-c", _CHILD, target, json.dumps(kwargs or {}), result, mode]
        usage = _launch(argv, None, err, env)
        if usage["code"] != 0 or not os.path.exists(result):
            raise StageFailed(f"benchmark child {target} failed ({usage['code']}):\n{_tail(err)}")
        with open(result) as fh:
            timing = json.load(fh)
    return timing, usage["maxrss_kb"] / 1024.0  # Linux reports KiB


def run_isolated(target: str, kwargs: dict | None = None, env: dict | None = None) -> Sample:
    """Run `target(**kwargs)` in a child Python (CPU: that process alone); raise if it fails."""
    timing, peak = _run_child(target, kwargs, env, tree=False)
    return Sample(wall_s=timing["wall_s"], cpu_s=timing["cpu_s"], peak_rss_mb=peak)


def run_stage(
    target: str, kwargs: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> StageSample:
    """Run `target(**kwargs)` in a child Python, its children's CPU counted; StageFailed if it fails."""
    timing, peak = _run_child(target, kwargs, env, tree=True)
    return StageSample(
        wall_s=timing["wall_s"],
        cpu_s=timing["cpu_s"],
        peak_rss_mb=peak,
        setup=timing["setup"],
        result=timing["result"],
    )


def run_command(
    argv: list[str], cwd: str | None = None, log_path: str | None = None
) -> StageSample:
    """Time an external command: wall around it, CPU and peak RSS of it and its waited children.

    Its output goes to `log_path` (or a temporary file); a non-zero exit
    raises StageFailed with the output's tail.
    """
    with tempfile.TemporaryDirectory(prefix="stratopt-cmd-") as tmp:
        log = log_path or os.path.join(tmp, "output.txt")
        usage = _launch(list(argv), cwd or os.getcwd(), log)
        if usage["code"] != 0:
            raise StageFailed(
                f"external command {' '.join(argv)} failed ({usage['code']}):\n{_tail(log)}"
            )
    return StageSample(
        wall_s=usage["wall_s"], cpu_s=usage["cpu_s"], peak_rss_mb=usage["maxrss_kb"] / 1024.0
    )


def parent_peak_mb() -> float:
    """This process's peak RSS: the floor under every child's figure, were it not for the launcher."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB


# ---------------------------------------------------------------- medians and tables


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
