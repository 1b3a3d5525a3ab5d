"""Running one stage under `py-spy record`: attached when allowed, launched otherwise.

Two modes (STRATOPT_PROFILE_MODE = auto | attach | launch; default auto):

- **attach** (tried first): `run_rule` starts
  `py-spy record --pid <its own pid>` as a subprocess, waits until py-spy says
  it is sampling (tens of milliseconds), runs the stage in-process, then stops
  py-spy with SIGINT and waits for its output. Nothing is imported twice and
  the stage receives the real `snakemake` object: the cheap mode.
- **launch** (the fallback where ptrace is refused, as on many HPC nodes):
  the rule script starts a child Python under py-spy, hands it a pickled plain
  copy of the `snakemake` object (stratopt.runtime.context.RuleContext) and the
  stage function (pickled by reference), and waits. That costs one more
  interpreter start and the stage's imports again (0.25-0.4 s per stage of
  the twin, against 0.0-0.1 s attached: docs/profiling.md).

py-spy samples without pausing the stage (--nonblocking) unless
STRATOPT_PROFILE_BLOCKING=1, and follows subprocesses only for a stage that
starts workers (threads > 1): both cut its cost. Either way py-spy records once, in its raw (collapsed) format; the SVG
flamegraph and the speedscope JSON are both derived from that one recording,
under results/{dataset}/profiles/{rule}[-{wildcards}].*. The rule's log says
which mode ran.

The switch is `profiling.enabled` in the config or STRATOPT_PROFILE=1 in
the environment, never a `params:` value, so switching it forces no reruns.
In launch mode py-spy does not pass on the child's exit status, so the child
writes a status file that says whether the stage finished.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import pickle
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratopt import contracts
from stratopt.errors import ConfigError, StratoptError
from stratopt.runtime.atomic import write_json, write_text
from stratopt.runtime.context import RuleContext, plain_namedlist
from stratopt.runtime.flamegraph import render_svg
from stratopt.runtime.stackprofile import parse_raw, to_speedscope

ENV_SWITCH = "STRATOPT_PROFILE"
ENV_DIR = "STRATOPT_PROFILE_DIR"
ENV_MODE = "STRATOPT_PROFILE_MODE"
ENV_BLOCKING = "STRATOPT_PROFILE_BLOCKING"
MODES = ("auto", "attach", "launch")
ATTACH_TIMEOUT_S = 10.0  # py-spy normally says it is sampling within 0.1 s
STOP_TIMEOUT_S = 120.0  # writing the raw stacks of a long stage
#: py-spy says it is sampling before it installs its Ctrl-C handler; a SIGINT in
#: between killed it unwritten (a stage failing at once, on a loaded machine)
HANDLER_TIMEOUT_S = 5.0
DEFAULT_RATE = 100
log = logging.getLogger(__name__)


class StageFailed(StratoptError):
    """The profiled stage raised or exited early; its traceback is in the rule's log."""


@dataclass(frozen=True)
class ProfileFiles:
    svg: Path
    speedscope: Path
    samples: int
    wall_s: float


def profiling_enabled(config: Mapping[str, Any] | None) -> bool:
    """On when the config says so or STRATOPT_PROFILE is 1/true/yes/on."""
    env = os.environ.get(ENV_SWITCH, "").strip().lower()
    if env in {"1", "true", "yes", "on"}:
        return True
    section = (config or {}).get("profiling") or {}
    return bool(section.get("enabled", False))


def profiling_rate(config: Mapping[str, Any] | None) -> int:
    section = (config or {}).get("profiling") or {}
    return int(section.get("rate", DEFAULT_RATE))


def profile_stem(rule: str, wildcards: Mapping[str, Any] | None = None) -> str:
    """`rule` or `rule-{value}-{value}` (wildcard values in order), safe as a file name."""
    parts = [rule or "stage", *(str(v) for _, v in (wildcards or {}).items())]
    return "-".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", p) for p in parts)


def profiles_dir(config: Mapping[str, Any] | None) -> Path:
    """results/{dataset}/profiles, or STRATOPT_PROFILE_DIR when set."""
    override = os.environ.get(ENV_DIR)
    if override:
        return Path(override)
    dataset = (config or {}).get("dataset") or "default"
    return Path(contracts.results_dir(str(dataset))) / contracts.PROFILE_SVG.folder


def find_py_spy() -> str:
    """py-spy beside this Python (a venv or conda env) or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    if beside.exists():
        return str(beside)
    found = shutil.which("py-spy")
    if not found:
        raise ConfigError(
            "profiling is on but py-spy is not installed "
            "(pip install py-spy, or switch profiling off: unset STRATOPT_PROFILE)"
        )
    return found


def profiling_mode() -> str:
    """auto (attach, else launch), attach (fail when refused) or launch, from STRATOPT_PROFILE_MODE."""
    mode = os.environ.get(ENV_MODE, "").strip().lower() or "auto"
    if mode not in MODES:
        raise ConfigError(f"{ENV_MODE}={mode!r}: expected one of {', '.join(MODES)}")
    return mode


def sampling_blocks() -> bool:
    """Whether py-spy pauses the stage for each sample (STRATOPT_PROFILE_BLOCKING=1).

    Off by default: pausing gives exactly consistent stacks but cost the
    search stages about 10 % of their wall time here, against about 5 %
    without (docs/profiling.md); a stack read while the stage runs is
    occasionally inconsistent, and py-spy then drops that sample (counted as
    an error in the log's closing line).
    """
    return os.environ.get(ENV_BLOCKING, "").strip().lower() in {"1", "true", "yes", "on"}


def _record_argv(rate: int, raw: Path, subprocesses: bool) -> list[str]:
    """py-spy's arguments; `subprocesses` for a stage that starts worker processes.

    --subprocesses is asked for only then: it delays py-spy's first sample
    by about 0.1 s (0.12 s against 0.01 s here), most of the fixed cost of
    attaching to a one-process stage.
    """
    argv = [
        find_py_spy(),
        "record",
        "--format",
        "raw",
        "--rate",
        str(rate),
        "--function",
        "--output",
        str(raw),
    ]
    if subprocesses:
        argv.append("--subprocesses")
    return argv if sampling_blocks() else [*argv, "--nonblocking"]


def starts_workers(smk: Any) -> bool:
    """Whether the stage may start worker processes: more than one Snakemake thread.

    Only the optimize rule does (with optimize.pool: process its pool has
    `threads` worker processes; its default thread pool stays in one process,
    where following subprocesses costs nothing); the other stages run in one
    process (DuckDB and BLAS use threads).
    """
    try:
        return int(getattr(smk, "threads", 1) or 1) > 1
    except (TypeError, ValueError):
        return False


PR_SET_PTRACER = 0x59616D61  # Linux prctl: Yama's "this process may trace me"


def _allow_tracer(pid: int) -> bool:
    """Declare `pid` this process's tracer (0 clears it); True where Yama took it.

    Under Yama ptrace_scope 1 a process may trace only its descendants, and
    py-spy is our child, so it needs this permission to attach to us.
    Elsewhere (no Yama, not Linux) the call fails harmlessly.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PTRACER, ctypes.c_ulong(pid), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def catches_sigint(pid: int) -> bool | None:
    """Whether process `pid` has its own SIGINT handler (Linux: SigCgt in
    /proc/PID/status); None where that cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("SigCgt:"):
                return bool(int(line.split()[1], 16) >> (signal.SIGINT - 1) & 1)
    except (OSError, ValueError, IndexError):
        return None
    return None


def await_sigint_handler(pid: int, timeout: float) -> None:
    """Until `pid` catches SIGINT (or `timeout` s, or nothing can tell), polling every 2 ms.

    Why: py-spy prints that it is sampling, then installs its Ctrl-C handler; a
    SIGINT sent in between (the stage had already ended) killed it before it
    wrote anything, and the profile of a stage that failed at once was lost.
    """
    deadline = time.monotonic() + timeout
    while catches_sigint(pid) is False and time.monotonic() < deadline:
        time.sleep(0.002)  # waiting on another process's state, not standing in for work


class AttachedRecorder:
    """py-spy recording a running process from outside, until stop()."""

    READY = "Sampling process"

    def __init__(self, proc: subprocess.Popen[str], raw: Path, tracer_set: bool) -> None:
        self.proc = proc
        self.raw = raw
        self.tracer_set = tracer_set
        self.lines: list[str] = []
        self.ready = threading.Event()
        self._reader = threading.Thread(target=self._drain, daemon=True)
        self._reader.start()

    def _drain(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if self.READY in line:
                self.ready.set()
        self.ready.set()  # py-spy ended (refused, or stopped)

    @property
    def sampling(self) -> bool:
        return any(self.READY in line for line in self.lines) and self.proc.poll() is None

    def refusal(self) -> str:
        """py-spy's own reason, its first error line."""
        errors = [ln.strip() for ln in self.lines if ln.strip().startswith("Error")]
        if errors:
            return errors[0]
        code = self.proc.poll()
        return f"py-spy exit status {code}" if code is not None else "py-spy did not start sampling"

    def stop(self) -> str | None:
        """SIGINT py-spy (it writes its recording on Ctrl-C); the raw stacks, if any."""
        if self.proc.poll() is None:
            await_sigint_handler(self.proc.pid, HANDLER_TIMEOUT_S)
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(5.0)
        if self.tracer_set:
            _allow_tracer(0)
        if not self.raw.exists():
            return None
        return self.raw.read_text(encoding="utf-8", errors="replace")

    def summary(self) -> str:
        """py-spy's closing line (samples and errors), for the log."""
        return next((ln for ln in reversed(self.lines) if "Samples:" in ln), "")


def attach(
    rate: int, raw: Path, pid: int | None = None, *, subprocesses: bool = False
) -> tuple[AttachedRecorder | None, str]:
    """Start py-spy recording `pid` (default: this process) into `raw`.

    Returns the recorder once py-spy says it is sampling, or None and
    py-spy's reason when it cannot attach (ptrace refused, not a Python).
    """
    target = os.getpid() if pid is None else pid
    argv = [*_record_argv(rate, raw, subprocesses), "--pid", str(target)]
    reason = ""
    for _ in range(2):  # a second try only where Yama needed the tracer permission
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        tracer_set = target == os.getpid() and _allow_tracer(proc.pid)
        recorder = AttachedRecorder(proc, raw, tracer_set)
        recorder.ready.wait(ATTACH_TIMEOUT_S)
        if recorder.sampling:
            return recorder, ""
        recorder.stop()
        raw.unlink(missing_ok=True)
        reason = recorder.refusal()
        if not tracer_set:
            break
    return None, reason


def run_attached(
    smk: Any,
    stage: Callable[[Any], None],
    recorder: AttachedRecorder,
    *,
    out_dir: Path,
    stem: str,
    rate: int,
) -> ProfileFiles | None:
    """Run `stage(smk)` here while `recorder` samples; write the profile even if it fails.

    A recording that cannot be turned into files is a warning, not a failure:
    the stage's own outputs are complete.
    """
    start = time.perf_counter()
    try:
        stage(smk)
    finally:
        raw_text = recorder.stop()
        wall = time.perf_counter() - start
        files = None
        if raw_text is None:
            log.warning("rule %s: py-spy wrote no recording (%s)", stem, recorder.refusal())
        else:
            try:
                files = write_profile(raw_text, out_dir, stem, rate)
                files = ProfileFiles(files.svg, files.speedscope, files.samples, wall)
                log.info(
                    "rule %s: profile %s (%d samples; %s)",
                    stem,
                    files.svg,
                    files.samples,
                    recorder.summary().removeprefix("py-spy> "),
                )
            except (OSError, ValueError) as exc:
                log.warning("rule %s: profile not written (%s)", stem, exc)
    return files


def profile_stage(smk: Any, stage: Callable[[Any], None], config: Any) -> ProfileFiles | None:
    """Run the stage under py-spy, attached if allowed, else launched; the log says which."""
    mode = profiling_mode()
    out_dir, rate = profiles_dir(config), profiling_rate(config)
    rule = str(getattr(smk, "rule", "") or "")
    stem = profile_stem(rule, dict(plain_namedlist(getattr(smk, "wildcards", None)).items()))
    if mode != "launch":
        with tempfile.TemporaryDirectory(prefix="stratopt-profile-") as tmp:
            recorder, reason = attach(
                rate, Path(tmp) / "stacks.raw", subprocesses=starts_workers(smk)
            )
            if recorder is not None:
                log.info(
                    "rule %s: profiling under py-spy at %d Hz%s, mode attach "
                    "(py-spy attached to pid %d)",
                    rule,
                    rate,
                    "" if sampling_blocks() else " (non-blocking)",
                    os.getpid(),
                )
                return run_attached(smk, stage, recorder, out_dir=out_dir, stem=stem, rate=rate)
        if mode == "attach":
            raise ConfigError(
                f"rule {rule}: py-spy cannot attach to this process ({reason}); "
                f"set {ENV_MODE}=launch (or auto) to launch the stage under py-spy instead"
            )
        log.warning("rule %s: py-spy cannot attach (%s); falling back to mode launch", rule, reason)
    return run_profiled(RuleContext.from_snakemake(smk), stage, out_dir=out_dir, rate=rate)


def run_profiled(
    ctx: RuleContext,
    stage: Callable[[Any], None],
    *,
    out_dir: Path,
    rate: int = DEFAULT_RATE,
) -> ProfileFiles:
    """Run `stage(ctx)` in a child under py-spy; write the flamegraph and speedscope files.

    The profile is written even when the stage fails (it shows where it
    failed), and then StageFailed is raised.
    """
    stem = profile_stem(ctx.rule, dict(ctx.wildcards.items()))
    with tempfile.TemporaryDirectory(prefix="stratopt-profile-") as tmp:
        job = Path(tmp) / "job.pkl"
        status = Path(tmp) / "status.json"
        raw = Path(tmp) / "stacks.raw"
        try:
            job.write_bytes(pickle.dumps((ctx, stage), protocol=pickle.HIGHEST_PROTOCOL))
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise ConfigError(
                f"cannot profile rule {ctx.rule}: its stage or data cannot be pickled ({exc}); "
                "stage functions must be module-level functions"
            ) from exc
        argv = [
            *_record_argv(rate, raw, starts_workers(ctx)),
            "--",
            sys.executable,
            "-m",
            "stratopt.runtime.profiling",
            str(job),
            str(status),
        ]
        log.info(
            "rule %s: profiling under py-spy at %d Hz%s, mode launch (the stage runs in a child)",
            ctx.rule,
            rate,
            "" if sampling_blocks() else " (non-blocking)",
        )
        start = time.perf_counter()
        proc = subprocess.run(argv, stdout=sys.stderr, check=False)
        wall = time.perf_counter() - start
        outcome = json.loads(status.read_text()) if status.exists() else None
        files = None
        if raw.exists():
            files = write_profile(
                raw.read_text(encoding="utf-8", errors="replace"), out_dir, stem, rate
            )
            files = ProfileFiles(files.svg, files.speedscope, files.samples, wall)
            log.info("rule %s: profile %s (%d samples)", ctx.rule, files.svg, files.samples)
    if outcome is None:
        raise StageFailed(
            f"rule {ctx.rule}: the profiled stage ended without finishing "
            f"(py-spy exit status {proc.returncode}); see the rule's log"
        )
    if not outcome.get("ok"):
        raise StageFailed(f"rule {ctx.rule}: {outcome.get('error', 'failed')}")
    if files is None:
        raise StageFailed(f"rule {ctx.rule}: py-spy wrote no samples (exit {proc.returncode})")
    return files


def write_profile(raw_text: str, out_dir: Path, stem: str, rate: int) -> ProfileFiles:
    """Derive {stem}.svg and {stem}.speedscope.json from one raw recording."""
    profile = parse_raw(raw_text, rate=float(rate), name=stem)
    svg = out_dir / contracts.PROFILE_SVG.file_name(job=stem)
    speedscope = out_dir / contracts.PROFILE_SPEEDSCOPE.file_name(job=stem)
    write_text(svg, render_svg(profile, title=f"{stem}: py-spy, {rate} Hz"))
    write_json(speedscope, to_speedscope(profile))
    return ProfileFiles(svg=svg, speedscope=speedscope, samples=profile.samples, wall_s=0.0)


def _child_main(job_path: str, status_path: str) -> int:
    """The profiled child: load the job, run the stage, say how it ended."""
    from stratopt.runtime.logs import setup_logging

    ctx, stage = pickle.loads(Path(job_path).read_bytes())
    setup_logging(str(ctx.log[0]) if len(ctx.log) else None, mode="a")
    try:
        stage(ctx)
    except BaseException as exc:  # report every way out, then fail
        logging.getLogger("stratopt.runtime.rule").error(
            "rule %s failed:\n%s", ctx.rule, traceback.format_exc()
        )
        write_json(status_path, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    write_json(status_path, {"ok": True})
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1], sys.argv[2]))
