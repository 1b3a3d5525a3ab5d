"""`snakemake` exits when its work is done, not up to a second later.

Snakemake's scheduler (9.x, `--max-jobs-per-timespan`, default 100/1s) ends
each of its rounds by starting a `threading.Timer` for one timespan that wakes
it again (`JobScheduler._schedule_reevalutation`). The timer is not a daemon
thread, so when the last job ends the interpreter waits for the pending one
before it exits: 0-1 s of wall time after every run, whatever its size (1.0 s
measured after the 500-strategy sample run, 2026-12-01, py-spy: the main
thread in `threading._shutdown`, a thread in `Timer.run`). Once the scheduler
has returned (onsuccess, onerror) nothing waits for those wake-ups, so the
workflow cancels them. Only timers whose function Snakemake's scheduler made
are touched; with another Snakemake layout nothing is found and nothing changes.
"""

from __future__ import annotations

import threading

#: Where the scheduler's wake-up functions are defined.
SCHEDULER_MODULE = "snakemake.scheduling.job_scheduler"


def scheduler_timers() -> list[threading.Timer]:
    """The live timers that would wake Snakemake's scheduler."""
    found = []
    for thread in threading.enumerate():
        if not isinstance(thread, threading.Timer) or not thread.is_alive():
            continue
        function = getattr(thread, "function", None)
        if getattr(function, "__module__", None) == SCHEDULER_MODULE:
            found.append(thread)
    return found


def cancel_scheduler_timers() -> int:
    """Cancel the scheduler's pending wake-ups (call only once it has returned); how many."""
    timers = scheduler_timers()
    for timer in timers:
        timer.cancel()
    return len(timers)
