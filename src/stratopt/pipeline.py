"""The bridge from Snakemake rule scripts to the package.

Each script in scripts/ is `run_rule(snakemake, some_stage_function)`: the
stage function takes the `snakemake` object and does the work; this module
sends logging to the rule's log file and turns errors into a clean exit.
With profiling on (config `profiling.enabled` or STRATOPT_PROFILE=1) the
stage runs under py-spy (stratopt.profiling): py-spy attached to this
process where ptrace allows it, else the stage launched in a child under it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
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


def run_rule(smk: Any, stage: StageFunction) -> None:
    """Run one stage for Snakemake, logging to the rule's first log file.

    The log is opened for appending (after truncating it once) because a
    profiled child (launch mode) writes to the same file while this process waits.
    """
    log = str(smk.log[0]) if len(smk.log) else None
    if log:
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        Path(log).write_text("", encoding="utf-8")
    setup_logging(log, mode="a")
    logger = logging.getLogger("stratopt.pipeline")
    logger.info("rule %s: start", smk.rule)
    config = getattr(smk, "config", None)
    try:
        if profiling_enabled(config):
            profile_stage(smk, stage, config)
        else:
            stage(smk)
    except StratoptError as exc:
        # the rule's own log holds the error (Snakemake points the user there)
        logger.error("rule %s failed: %s", smk.rule, exc)
        raise SystemExit(1) from None
    except Exception:
        logger.exception("rule %s failed", smk.rule)
        raise
    logger.info("rule %s: done", smk.rule)
