"""Running one stage under `py-spy record`, launched (never attached).

HPC nodes often refuse ptrace, so py-spy cannot attach to a running rule
script; it can launch one. The rule script therefore starts a child Python
under py-spy, hands it a pickled plain copy of the `snakemake` object
(stratopt.rulecontext.RuleContext) and the stage function (pickled by
reference), and waits. py-spy records once, in its raw (collapsed) format;
the SVG flamegraph and the speedscope JSON are both derived from that one
recording, under results/{dataset}/profiles/{rule}[-{wildcards}].*.

The switch is `profiling.enabled` in the config or STRATOPT_PROFILE=1 in
the environment, never a `params:` value, so switching it forces no reruns.
py-spy does not pass on the child's exit status, so the child writes a
status file that says whether the stage finished.
"""

from __future__ import annotations

import json
import logging
import os
import pickle
import re
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratopt.atomic import write_json, write_text
from stratopt.errors import ConfigError, StratoptError
from stratopt.flamegraph import render_svg
from stratopt.rulecontext import RuleContext
from stratopt.stackprofile import parse_raw, to_speedscope

ENV_SWITCH = "STRATOPT_PROFILE"
ENV_DIR = "STRATOPT_PROFILE_DIR"
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
    return Path("results") / str(dataset) / "profiles"


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
            find_py_spy(),
            "record",
            "--format",
            "raw",
            "--rate",
            str(rate),
            "--function",
            "--subprocesses",
            "--output",
            str(raw),
            "--",
            sys.executable,
            "-m",
            "stratopt.profiling",
            str(job),
            str(status),
        ]
        log.info("rule %s: profiling under py-spy at %d Hz", ctx.rule, rate)
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
    svg = out_dir / f"{stem}.svg"
    speedscope = out_dir / f"{stem}.speedscope.json"
    write_text(svg, render_svg(profile, title=f"{stem}: py-spy, {rate} Hz"))
    write_json(speedscope, to_speedscope(profile))
    return ProfileFiles(svg=svg, speedscope=speedscope, samples=profile.samples, wall_s=0.0)


def _child_main(job_path: str, status_path: str) -> int:
    """The profiled child: load the job, run the stage, say how it ended."""
    from stratopt.pipeline import setup_logging

    ctx, stage = pickle.loads(Path(job_path).read_bytes())
    setup_logging(str(ctx.log[0]) if len(ctx.log) else None, mode="a")
    try:
        stage(ctx)
    except BaseException as exc:  # report every way out, then fail
        logging.getLogger("stratopt.pipeline").error(
            "rule %s failed:\n%s", ctx.rule, traceback.format_exc()
        )
        write_json(status_path, {"ok": False, "error": f"{type(exc).__name__}: {exc}"})
        return 1
    write_json(status_path, {"ok": True})
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1], sys.argv[2]))
