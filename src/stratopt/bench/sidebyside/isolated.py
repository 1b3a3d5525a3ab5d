"""One benchmark stage in a fresh child process: wall, CPU and peak resident memory.

Like stratopt.bench.timing.run_isolated, with two additions the
side-by-side benchmark needs:
- CPU time counts the stage's own child processes too (a worker pool, the
  external legacy command): RUSAGE_SELF + RUSAGE_CHILDREN, measured inside
  the child around the call; wall time likewise excludes interpreter start.
- A stage function may return a zero-argument callable: the call itself was
  then set-up owed to an earlier stage (the baseline search rebuilds the dense
  correlation matrix it needs, 5.2 GB at production size, which cannot be
  handed over cheaply) and only the callable is timed; the set-up's own time
  is recorded apart. The peak RSS (os.wait4) is the whole process's, set-up
  included: the legacy holds that matrix during its search too.
A stage may return a small JSON-able dict (e.g. per-size seconds); it comes back.

A process started by fork/vfork + exec inherits its parent's peak-RSS
high-water mark, so every measured process is started by a small launcher
(a fresh stdlib-only interpreter) rather than by the benchmark's parent.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from typing import Any

from stratopt.errors import StratoptError

_CHILD = """
import importlib, json, resource, sys, time
def cpu():
    s = resource.getrusage(resource.RUSAGE_SELF)
    c = resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime
mod, _, fn = sys.argv[1].partition(":")
kwargs = json.loads(sys.argv[2])
func = getattr(importlib.import_module(mod), fn)
setup = None
w0, c0 = time.perf_counter(), cpu()
out = func(**kwargs)
if callable(out):
    setup = {"wall_s": time.perf_counter() - w0, "cpu_s": cpu() - c0}
    w0, c0 = time.perf_counter(), cpu()
    out = out()
wall, used = time.perf_counter() - w0, cpu() - c0
with open(sys.argv[3], "w") as fh:
    json.dump({"wall_s": wall, "cpu_s": used, "setup": setup,
               "result": out if isinstance(out, dict) else None}, fh)
"""

# A minimal launcher between the benchmark's parent and each measured process.
# A child started by fork/vfork + exec inherits its parent's peak-RSS
# high-water mark; the launcher is a fresh stdlib-only interpreter (about
# 10 MB), so the measured process's peak is its own, not the parent's.
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


@dataclass
class StageSample:
    """One run of one stage."""

    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    setup: dict[str, float] | None = None
    result: dict[str, Any] | None = field(default=None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class StageFailed(StratoptError):
    """A benchmark child exited with an error (its stderr tail is in the message)."""


def run_stage(
    target: str, kwargs: dict[str, Any] | None = None, env: dict[str, str] | None = None
) -> StageSample:
    """Run `target(**kwargs)` ("module:function") in a child Python; raise StageFailed if it fails."""
    with tempfile.TemporaryDirectory(prefix="stratopt-bench-") as tmp:
        result = os.path.join(tmp, "timing.json")
        err = os.path.join(tmp, "stderr.txt")
        argv = [sys.executable, "-c", _CHILD, target, json.dumps(kwargs or {}), result]
        usage = _launch(argv, None, err, env)
        if usage["code"] != 0 or not os.path.exists(result):
            raise StageFailed(f"benchmark stage {target} failed ({usage['code']}):\n{_tail(err)}")
        with open(result) as fh:
            timing = json.load(fh)
    return StageSample(
        wall_s=timing["wall_s"],
        cpu_s=timing["cpu_s"],
        peak_rss_mb=usage["maxrss_kb"] / 1024.0,  # Linux reports KiB
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
    """This process's peak RSS: the floor under every child's figure."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB
