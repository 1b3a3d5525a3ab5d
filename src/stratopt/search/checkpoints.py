"""Checkpoints of finished sizes: runs/{algorithm}/size_{n}.json, reused only when they match.

Each finished size is written atomically with a fingerprint of the settings
and the input file's SHA-256; a rerun skips the sizes whose checkpoint
matches, and searches again those written under other settings or another input.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from stratopt import contracts
from stratopt.search.settings import OptimizeSettings


def file_digest(path: str | Path) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(algorithm: str, settings: OptimizeSettings, input_digest: str) -> str:
    """What a checkpoint must match to be reused (the backend and budget included; of
    the algorithms' own settings only this algorithm's, so that changing ACO's keeps
    the other algorithms' checkpoints)."""
    blob = json.dumps(
        {
            "algorithm": algorithm,
            "settings": settings.for_algorithm(algorithm),
            "input": input_digest,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def checkpoint_path(runs_dir: Path, algorithm: str, size: int) -> Path:
    """runs/{algorithm}/size_{n}.json, in whichever runs folder the caller chose."""
    return Path(runs_dir) / algorithm / contracts.CHECKPOINT.file_name(size=size)


def load_checkpoint(path: Path, expected: str) -> dict[str, Any] | None:
    """A finished size's record, or None when absent, unreadable or from other settings."""
    try:
        data = contracts.CHECKPOINT.read_json_at(path)
    except contracts.ContractError:
        return None  # searched again, and rewritten
    if data is None or data["fingerprint"] != expected:
        return None
    return data["result"]
