"""The optimize stage: every enabled algorithm over the portfolio sizes, resumably.

Work unit: one (algorithm, size) search, its random stream fixed by the seed,
the algorithm and the size alone (stratopt.search.settings). Within one call
the units run on `workers` workers (stratopt.search.runner). Each finished
size is checkpointed atomically to runs/{algorithm}/size_{n}.json
(stratopt.search.checkpoints); a rerun skips the sizes whose checkpoint
matches. The stage's output runs/{algorithm}.json gathers all sizes.
"""

from __future__ import annotations

import logging
import time
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stratopt import contracts
from stratopt.data.matrix import Matrix, read_matrix
from stratopt.data.zone_matrix import read_zone_data
from stratopt.errors import ConfigError, InputError
from stratopt.runtime.atomic import json_text, loads_strict, write_text
from stratopt.runtime.memory import release_freed_memory
from stratopt.search.checkpoints import checkpoint_path, file_digest, fingerprint, load_checkpoint
from stratopt.search.run_text import document_text, record_text, size_entry
from stratopt.search.runner import DEFAULT_POOL, POOLS, build_evaluator, run_units
from stratopt.search.settings import OptimizeSettings, size_seed

__all__ = ["DEFAULT_POOL", "POOLS", "OptimizeSettings", "optimize", "run_document", "size_seed"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MatrixShape:
    """What the run documents need of the matrix once the evaluator holds its values."""

    names: list[str]
    n_strategies: int
    n_days: int

    @classmethod
    def of(cls, matrix: Matrix) -> MatrixShape:
        return cls(matrix.names, matrix.n_strategies, matrix.n_days)


def optimize(
    matrix_path: str | Path,
    algorithms: Sequence[str],
    settings: OptimizeSettings,
    runs_dir: str | Path,
    *,
    workers: int = 1,
    pool: str = DEFAULT_POOL,
    progress: bool = False,
    outputs: Mapping[str, str | Path] | None = None,
) -> dict[str, Path]:
    """Run every algorithm over the sizes; write runs_dir/{algorithm}.json (or `outputs`).

    Returns the output path per algorithm. Finished sizes found in
    runs_dir/{algorithm}/ with a matching fingerprint are not searched again.
    """
    from stratopt.algorithms import check_params

    matrix_path = Path(matrix_path)
    runs_dir = Path(runs_dir)
    if workers < 1:
        raise ConfigError(f"optimize.workers must be >= 1 (got {workers})")
    # unknown algorithms and bad settings fail here, before any work
    check_params(settings.params, algorithms)
    started = time.perf_counter()
    matrix = read_matrix(matrix_path)
    if matrix.n_strategies == 0:
        raise InputError(matrix_path, "the prepared matrix holds no strategies")
    digest = file_digest(matrix_path)
    zones = read_zone_data(matrix_path)  # None unless prepared in zone mode
    sizes, skipped = settings.sizes(matrix.n_strategies)
    if not sizes:
        raise ConfigError(
            f"optimize sizes {settings.min_size}..{settings.max_size}: every size is larger "
            f"than the {matrix.n_strategies} strategies of {matrix_path}"
        )
    if skipped:
        log.warning(
            "sizes %d..%d skipped: larger than the %d strategies",
            skipped[0],
            skipped[-1],
            matrix.n_strategies,
        )

    # per size: its record's text, encoded once, and its best indices (the names)
    done: dict[str, dict[int, tuple[str, list[int]]]] = {a: {} for a in algorithms}
    todo: list[tuple[str, int]] = []
    prints = {a: fingerprint(a, settings, digest) for a in algorithms}
    for name in algorithms:
        for size in sizes:
            record = load_checkpoint(checkpoint_path(runs_dir, name, size), prints[name])
            if record is not None:
                done[name][size] = (record_text(record), record["best"])
            else:
                todo.append((name, size))
    resumed = sum(len(v) for v in done.values())
    if resumed:
        log.info("resuming: %d of %d searches already checkpointed", resumed, resumed + len(todo))

    # bigger sizes first: they take longest, so the pool finishes evenly
    todo.sort(key=lambda unit: (-unit[1], unit[0]))
    total = resumed + len(todo)
    # a line per size in the log; at debug level under a progress bar, which says it instead
    level = logging.DEBUG if progress else logging.INFO

    def finished(name: str, record: dict[str, Any], bar: Any) -> None:
        size = record["size"]
        checkpoint = contracts.CHECKPOINT.checked({"fingerprint": prints[name], "result": record})
        text = json_text(checkpoint, compact=True)
        write_text(checkpoint_path(runs_dir, name, size), text + "\n")
        # the record's own text, cut from the checkpoint's (the trace lists are not kept)
        prefix = '{"fingerprint":' + json_text(prints[name]) + ',"result":'
        cut = text[len(prefix) : -1] if text.startswith(prefix) else record_text(record)
        done[name][size] = (cut, record["best"])
        count = sum(len(v) for v in done.values())
        log.log(
            level,
            "%s size %d: fitness %s, %d evaluations, %.2f s (%d/%d)",
            name,
            size,
            "none finite" if record["fitness"] is None else f"{record['fitness']:.6g}",
            record["evaluations"],
            record["seconds"],
            count,
            total,
        )
        bar.update(1)

    # the evaluator holds the matrix its own way (N x 2T): the T x N values go now,
    # the job keeps what the run documents need (memory: docs/algorithms.md)
    evaluator = build_evaluator(matrix, settings, zones) if todo else None
    shape = MatrixShape.of(matrix)
    del matrix
    release_freed_memory()
    run_units(
        todo, evaluator, matrix_path, settings, workers, pool, finished, total, resumed, progress
    )
    del evaluator  # the searches are done: W goes before the documents are built
    release_freed_memory()

    paths: dict[str, Path] = {}
    for name in algorithms:
        default = runs_dir / contracts.RUN.file_name(algorithm=name)
        out = Path(outputs[name]) if outputs and name in outputs else default
        write_text(
            out,
            run_text(
                name, settings, shape, matrix_path, digest, done[name], skipped, zones is not None
            )
            + "\n",
        )
        paths[name] = out
    log.info(
        "optimize: %d algorithms x %d sizes in %.2f s (%d workers, %s pool)",
        len(algorithms),
        len(sizes),
        time.perf_counter() - started,
        workers,
        pool,
    )
    return paths


def run_text(
    algorithm: str,
    settings: OptimizeSettings,
    shape: MatrixShape,
    matrix_path: Path,
    digest: str,
    done: Mapping[int, tuple[str, list[int]]],
    skipped: Iterable[int],
    zone_mode: bool,
) -> str:
    """runs/{algorithm}.json's text: run_document's, spliced from the sizes' encoded
    records (stratopt.search.run_text) instead of encoding them again. Each record was
    checked against the contract when its checkpoint was written; the head is checked here."""
    head = run_document(algorithm, settings, shape, matrix_path, digest, {}, skipped)
    head = contracts.RUN.checked(head | {"zone_mode": zone_mode})
    entries = [
        size_entry(text, [shape.names[i] for i in best], _seed(settings, algorithm, size))
        for size, (text, best) in sorted(done.items())
    ]
    spliced = document_text(head, entries)
    if spliced is not None:
        return spliced
    records = {size: loads_strict(text) for size, (text, _) in done.items()}
    doc = run_document(algorithm, settings, shape, matrix_path, digest, records, skipped)
    return json_text(contracts.RUN.checked(doc | {"zone_mode": zone_mode}), compact=True)


def _seed(settings: OptimizeSettings, algorithm: str, size: int) -> list[int]:
    """What fixes a size's random stream (stratopt.search.settings.size_seed's parts)."""
    return [settings.seed, zlib.crc32(algorithm.lower().encode()), size]


def run_document(
    algorithm: str,
    settings: OptimizeSettings,
    matrix: Matrix | MatrixShape,
    matrix_path: Path,
    digest: str,
    records: Mapping[int, dict[str, Any]],
    skipped: Iterable[int],
) -> dict[str, Any]:
    """runs/{algorithm}.json: settings, input identity and one record per size."""
    sizes = []
    for size in sorted(records):
        rec = dict(records[size])
        rec["names"] = [matrix.names[i] for i in rec["best"]]
        rec["seed"] = _seed(settings, algorithm, size)
        sizes.append(rec)
    return {
        "algorithm": algorithm,
        "preset": settings.preset,
        "settings": settings.for_algorithm(algorithm),
        "input": {"path": str(matrix_path), "sha256": digest},
        "n_strategies": matrix.n_strategies,
        "n_days": matrix.n_days,
        "skipped_sizes": list(skipped),
        "sizes": sizes,
    }
