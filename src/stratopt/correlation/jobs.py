"""The correlation stages as functions of paths, and their Snakemake adapters."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stratopt import contracts
from stratopt.correlation.merge import merge_shards
from stratopt.correlation.settings import CorrelationSettings
from stratopt.correlation.shard import compute_shard
from stratopt.correlation.shard_io import read_shard, write_shard
from stratopt.data.matrix import read_matrix
from stratopt.engine.backend import get_xp
from stratopt.runtime.atomic import _json_default, write_text

log = logging.getLogger(__name__)


def run_shard(
    matrix_path: str | Path,
    out_path: str | Path,
    shard: int,
    settings: CorrelationSettings,
    fused: bool | None = None,
    threads: int = 1,
) -> None:
    """Read the matrix, compute shard `shard` of settings.shards, write its summary.

    fused: the compiled tile kernel (True), the array path (False), or the
    faster one for this shard (None, see shard.use_compiled); threads: the
    compiled kernel's threads (the same summary whatever their number).
    """
    matrix = read_matrix(matrix_path)
    xp = get_xp(settings.backend)
    summary = compute_shard(
        matrix, shard, settings, xp=xp, source=str(matrix_path), fused=fused, threads=threads
    )
    write_shard(summary, out_path)
    log.info(
        "correlation shard %d/%d: %d tiles, %d pairs, %d specials, %.2f s",
        shard,
        settings.shards,
        summary.meta["tiles"],
        summary.meta["pairs"],
        summary.meta["specials"],
        summary.meta["seconds"],
    )


def run_merge(
    shard_paths: Sequence[str | Path], matrix_path: str | Path, out_path: str | Path
) -> dict[str, Any]:
    """Merge the shard summaries into correlation.json (names and window means from the matrix)."""
    shards = [read_shard(p) for p in shard_paths]
    result = merge_shards(shards, read_matrix(matrix_path), [str(p) for p in shard_paths])
    contracts.CORRELATION.checked(result, out_path)
    # compact: the indented encoder is pure Python and takes seconds on 4 MB
    text = json.dumps(result, separators=(",", ":"), default=_json_default, allow_nan=False)
    write_text(out_path, text + "\n")  # strict JSON, like atomic.write_json
    log.info(
        "correlation: %d pairs, %d near-duplicate pairs in %d groups",
        result["pairs"],
        result["near_duplicates"]["pairs"],
        result["near_duplicates"]["groups"],
    )
    return result
