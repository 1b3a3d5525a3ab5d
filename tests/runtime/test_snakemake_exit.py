"""`snakemake` does not wait for its scheduler's pending wake-up before it exits.

stratopt.runtime.snakemake_exit cancels the scheduler's one-timespan timers
once the scheduler has returned (the Snakefile's onsuccess and onerror).
These tests use Snakemake's own scheduler code: its timer, and a real run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import types
from pathlib import Path

from snakemake.scheduling.job_scheduler import JobScheduler

from stratopt.runtime.snakemake_exit import cancel_scheduler_timers, scheduler_timers

REPO = Path(__file__).resolve().parents[2]


def test_the_schedulers_own_timer_is_cancelled_without_waking_it() -> None:
    woken = threading.Semaphore(0)
    JobScheduler._schedule_reevalutation(types.SimpleNamespace(_open_jobs=woken), 60)
    timers = scheduler_timers()
    assert len(timers) == 1
    assert cancel_scheduler_timers() == 1
    timers[0].join(timeout=10)
    assert not timers[0].is_alive()
    assert not woken.acquire(blocking=False)  # cancelled, not fired
    assert scheduler_timers() == []


def test_other_timers_are_left_alone() -> None:
    fired = threading.Event()
    mine = threading.Timer(0.05, fired.set)
    mine.start()
    try:
        assert scheduler_timers() == []
        assert cancel_scheduler_timers() == 0
        mine.join(timeout=10)
        assert fired.is_set()
    finally:
        mine.cancel()


SNAKEFILE = """
import json, threading
from stratopt.runtime.snakemake_exit import cancel_scheduler_timers, scheduler_timers

rule all:
    input: "b.txt"

rule a:
    output: "a.txt"
    shell: "echo a > {output}"

rule b:
    input: "a.txt"
    output: "b.txt"
    shell: "echo b > {output}"

onsuccess:
    pending = scheduler_timers()
    cancelled = cancel_scheduler_timers()
    for timer in pending:
        timer.join(timeout=10)
    alive = [t.name for t in threading.enumerate() if isinstance(t, threading.Timer) and t.is_alive()]
    with open("timers.json", "w") as fh:
        json.dump({"pending": len(pending), "cancelled": cancelled, "alive": alive}, fh)
"""


def test_a_real_run_leaves_a_wake_up_pending_and_the_workflow_cancels_it(
    tmp_path: Path,
) -> None:
    (tmp_path / "Snakefile").write_text(SNAKEFILE)
    done = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "--quiet"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    seen = json.loads((tmp_path / "timers.json").read_text())
    assert seen["pending"] >= 1  # what made every run wait up to a second
    assert seen["cancelled"] == seen["pending"]
    assert seen["alive"] == []


def test_the_snakefile_cancels_them_on_success_and_on_error() -> None:
    text = (REPO / "Snakefile").read_text()
    for handler in ("onsuccess:", "onerror:"):
        body = text.split(handler, 1)[1].split("\n\n", 1)[0]
        assert "cancel_scheduler_timers()" in body, handler
