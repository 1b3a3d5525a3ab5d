"""Logging of a stage: to stderr and to the rule's own log file."""

from __future__ import annotations

import logging
import sys


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


def to_log_file(logger: logging.Logger, message: str) -> None:
    """Log `message` to the rule's log file only, not to stderr.

    For text another job shows on the terminal (the ingest summary: rule
    publish_ingest prints it), so that a local run does not show it twice.
    """
    record = logger.makeRecord(logger.name, logging.INFO, "(log file)", 0, message, (), None)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.FileHandler):
            handler.handle(record)
