"""The optimize stage: every enabled algorithm over the portfolio sizes, resumably.

Work unit: one (algorithm, size) search. Its random stream comes from
SeedSequence([seed, crc32(algorithm), size]), so a result depends on the seed,
the algorithm and the size only: never on the worker count, the order the
pool runs the units in, or whether the run was interrupted and resumed.

Within one call the units run on `workers` worker processes (measured faster
than threads: the per-move NumPy calls are small and hold the GIL; see
docs/algorithms.md), each holding its own Evaluator over the prepared matrix.
Each finished size is checkpointed atomically to
runs/{algorithm}/size_{n}.json with a fingerprint of the settings and the
input file; a rerun skips the sizes whose checkpoint matches. The stage's
output runs/{algorithm}.json gathers all sizes.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import logging
import math
import os
import signal
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import (
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from dataclasses import asdict, dataclass, field
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stratopt.data.matrix import Matrix, read_matrix
from stratopt.data.zone_matrix import read_zone_data
from stratopt.data.zones import ZoneData
from stratopt.engine.protocol import EvaluatorLike
from stratopt.errors import ConfigError, InputError
from stratopt.runtime.atomic import finite_or_none, write_json
from stratopt.runtime.memory import release_freed_memory

if TYPE_CHECKING:  # imported where it is built: numba loads with it
    from stratopt.engine.evaluator import Evaluator

log = logging.getLogger(__name__)

POOLS = ("process", "thread")
#: The faster pool on the production workload (docs/algorithms.md has the figures).
DEFAULT_POOL = "process"


@dataclass(frozen=True)
class OptimizeSettings:
    """Everything that decides a search result (and so goes into the fingerprint)."""

    preset: str = "default"
    min_size: int = 35
    max_size: int = 100
    generations: int = 100
    population: int = 30
    mutation_rate: float = 0.1
    seed: int = 42
    metric: str = "guarded ratio"
    drawdown_threshold: float = 0.0
    drawdown_floor: float | None = None
    balanced: bool = False
    penalty_factor: float = 1.0
    backend: str = "numpy"
    budget: int | None = None
    #: each algorithm's own settings as configured (`optimize.params.<algorithm>`)
    params: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.preset not in ("default", "legacy"):
            raise ConfigError(f"optimize.preset must be 'default' or 'legacy', not {self.preset!r}")
        if self.min_size < 1 or self.max_size < self.min_size:
            raise ConfigError(
                f"optimize sizes {self.min_size}..{self.max_size}: need 1 <= min_size <= max_size"
            )
        if self.seed < 0:
            raise ConfigError(f"optimize.seed must be >= 0 (got {self.seed})")
        if self.budget is not None and self.budget < 1:
            raise ConfigError(f"an evaluation budget must be >= 1 (got {self.budget})")
        if self.drawdown_floor is not None and not self.drawdown_floor >= 0:
            raise ConfigError(f"drawdown_floor must be >= 0 rupees (got {self.drawdown_floor})")

    @classmethod
    def from_config(cls, config: Mapping[str, Any], **overrides: Any) -> OptimizeSettings:
        """From the pipeline config (top-level metric keys, the `optimize` section).

        The evaluation budget follows the pipeline's rule (algorithms.base.resolve_budget):
        `optimize.budget`, else G x P for every algorithm with the default preset.
        """
        from stratopt.algorithms.base import resolve_budget

        opt = dict(config.get("optimize", {}))
        floor = config.get("drawdown_floor")
        values = {
            "preset": opt.get("preset", cls.preset),
            "min_size": int(opt.get("min_size", cls.min_size)),
            "max_size": int(opt.get("max_size", cls.max_size)),
            "generations": int(opt.get("generations", cls.generations)),
            "population": int(opt.get("population", cls.population)),
            "mutation_rate": float(opt.get("mutation_rate", cls.mutation_rate)),
            "seed": int(opt.get("seed", cls.seed)),
            "metric": str(config.get("metric", cls.metric)),
            "drawdown_threshold": float(config.get("drawdown_threshold", cls.drawdown_threshold)),
            "drawdown_floor": None if floor is None else float(floor),
            "balanced": bool(config.get("balanced", cls.balanced)),
            "penalty_factor": float(config.get("penalty_factor", cls.penalty_factor)),
            "backend": str(opt.get("backend", cls.backend)),
            "params": {
                str(name).lower(): dict(own or {})
                for name, own in (opt.get("params") or {}).items()
            },
        }
        values.update(overrides)
        values["budget"] = resolve_budget(
            values["preset"],
            values.get("budget", opt.get("budget")),
            values["generations"],
            values["population"],
        )
        return cls(**values)

    def search_params(self, algorithm: str) -> dict[str, Any]:
        """An algorithm plugin's `params`: G, P, m and its own settings."""
        return {
            "generations": self.generations,
            "population": self.population,
            "mutation_rate": self.mutation_rate,
            **dict(self.params.get(algorithm.lower()) or {}),
        }

    def evaluator_kwargs(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "drawdown_threshold": self.drawdown_threshold,
            "drawdown_floor": self.drawdown_floor,
            "balanced": self.balanced,
            "penalty_factor": self.penalty_factor,
        }

    def sizes(self, n_strategies: int) -> tuple[list[int], list[int]]:
        """(sizes to run, sizes skipped because they exceed N)."""
        wanted = range(self.min_size, self.max_size + 1)
        return [n for n in wanted if n <= n_strategies], [n for n in wanted if n > n_strategies]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["params"] = {name: dict(own) for name, own in self.params.items()}
        return d

    def for_algorithm(self, algorithm: str) -> dict[str, Any]:
        """What decides `algorithm`'s results: the shared settings and its own, defaults
        filled in (so an omitted setting and its default give the same fingerprint)."""
        from stratopt.algorithms import algorithm_settings

        d = self.to_dict()
        d["params"] = algorithm_settings(algorithm, self.params.get(algorithm.lower()))
        return d


def size_seed(seed: int, algorithm: str, size: int) -> np.random.SeedSequence:
    """The random stream of one (algorithm, size) unit: independent of scheduling."""
    return np.random.SeedSequence([int(seed), zlib.crc32(algorithm.lower().encode()), int(size)])


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


# ------------------------------------------------------------------ one search


@dataclass(frozen=True)
class MatrixShape:
    """What the run documents need of the matrix once the evaluator holds its values."""

    names: list[str]
    n_strategies: int
    n_days: int

    @classmethod
    def of(cls, matrix: Matrix) -> MatrixShape:
        return cls(matrix.names, matrix.n_strategies, matrix.n_days)


def build_evaluator(
    matrix: Matrix, settings: OptimizeSettings, zones: ZoneData | None = None
) -> Evaluator:
    """The engine over the prepared matrix; with `zones` (zone_matrix.read_zone_data) the
    zone fitness over the same zone-weighted series (docs/zones.md)."""
    from stratopt.engine.backend import get_xp
    from stratopt.engine.evaluator import Evaluator

    evaluator = Evaluator(
        matrix.values,
        xp=get_xp(settings.backend),
        labels=matrix.labels if settings.balanced else None,
        zones=zones,
        **settings.evaluator_kwargs(),
    )
    # the stage's workers are its parallelism: no numba thread pool inside a search
    evaluator.parallel = False
    return evaluator


def search_one(
    evaluator: EvaluatorLike, algorithm: str, size: int, settings: OptimizeSettings
) -> dict[str, Any]:
    """One algorithm at one size: the checkpointable record (indices, not names)."""
    from stratopt.algorithms import load_algorithm

    rng = np.random.default_rng(size_seed(settings.seed, algorithm, size))
    result = load_algorithm(algorithm).run(
        evaluator,
        size,
        budget=settings.budget,
        rng=rng,
        params=settings.search_params(algorithm),
        preset=settings.preset,
    )
    return {
        "size": size,
        "best": [int(i) for i in result.best],
        # null when no portfolio had a finite fitness (the evaluator gives those -inf)
        "fitness": finite_or_none(result.fitness),
        "evaluations": int(result.evaluations),
        "seconds": float(result.seconds),
        "trace": [finite_or_none(x) for x in result.trace],
        "convergence": convergence_points(result.trace, result.trace_evaluations),
    }


def convergence_points(trace: Sequence[float], evaluations: Sequence[int]) -> list[list[float]]:
    """[evaluations, best fitness] where the best improved, and at the end: a step curve.

    The full trace has one entry per iteration, and an iteration is a
    generation for GA but one evaluation for SA; this puts every algorithm
    on the same axis (evaluations spent) in a few points.
    """
    points: list[list[float]] = []
    last = None
    for k, (best, spent) in enumerate(zip(trace, evaluations, strict=False)):
        if not math.isfinite(best):
            continue
        if best != last or k == len(trace) - 1:
            points.append([int(spent), float(best)])
            last = best
    return points


# Per-worker state. Threads: one view of the parent's evaluator per thread (its
# own evaluation count, the N x 2T arrays shared), since a Swapper is not
# thread-safe. Processes: forked after the parent built its evaluator, so that
# a worker inherits the imports, the loaded kernels and the arrays and pays no
# start-up of its own (with spawn, where fork is missing, the initializer builds one).
_WORKER: dict[str, Any] = {}
_THREAD = threading.local()


def _init_process(matrix_path: str, settings: OptimizeSettings, parent: int) -> None:
    die_with_parent(parent)
    if "evaluator" not in _WORKER:  # spawned, not forked: build this worker's own
        zones = read_zone_data(matrix_path)
        _WORKER["evaluator"] = build_evaluator(read_matrix(matrix_path), settings, zones)


def die_with_parent(parent: int) -> None:
    """End this worker when its parent process dies, even by SIGKILL.

    A killed parent cannot shut its pool down: the workers would live on,
    reparented to PID 1, holding their memory. On Linux the kernel sends
    SIGKILL on the parent's death (prctl PR_SET_PDEATHSIG); elsewhere a
    daemon thread polls the parent's pid once a second.
    """
    armed = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            armed = libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0
        except (OSError, AttributeError):
            armed = False
    if os.getppid() != parent:  # the parent died before the signal was armed
        os._exit(1)
    if not armed:
        threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


_PR_SET_PDEATHSIG = 1


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(1)


def _process_task(algorithm: str, size: int, settings: OptimizeSettings) -> dict[str, Any]:
    return search_one(_WORKER["evaluator"], algorithm, size, settings)


def _thread_task(
    base: Evaluator, algorithm: str, size: int, settings: OptimizeSettings
) -> dict[str, Any]:
    ev = getattr(_THREAD, "evaluator", None)
    if ev is None or getattr(_THREAD, "base", None) is not base:
        ev = _THREAD.evaluator = base.view() if hasattr(base, "view") else base
        _THREAD.base = base
    return search_one(ev, algorithm, size, settings)


def _make_pool(
    pool: str,
    workers: int,
    matrix_path: Path,
    settings: OptimizeSettings,
    evaluator: Evaluator,
) -> Executor:
    if pool == "thread":
        return ThreadPoolExecutor(max_workers=workers)
    if pool == "process":
        # fork: a rule script has no __main__ guard, and spawn/forkserver children re-run
        # __main__; the pool is made before any other thread starts (progress bar included)
        method = "fork" if "fork" in get_all_start_methods() else "spawn"
        _WORKER.clear()
        if method == "fork":
            _WORKER["evaluator"] = evaluator  # inherited by the forked workers
        return ProcessPoolExecutor(
            max_workers=workers,
            mp_context=get_context(method),
            initializer=_init_process,
            initargs=(str(matrix_path), settings, os.getpid()),
        )
    raise ConfigError(f"pool must be one of {', '.join(POOLS)}, not {pool!r}")


# ------------------------------------------------------------------ checkpoints


def checkpoint_path(runs_dir: Path, algorithm: str, size: int) -> Path:
    return Path(runs_dir) / algorithm / f"size_{size}.json"


def load_checkpoint(path: Path, expected: str) -> dict[str, Any] | None:
    """A finished size's record, or None when absent, unreadable or from other settings."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("fingerprint") != expected:
        return None
    return data.get("result")


# ------------------------------------------------------------------ the stage


ProgressHook = Callable[[str, dict[str, Any], int, int], None]


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

    done: dict[str, dict[int, dict[str, Any]]] = {a: {} for a in algorithms}
    todo: list[tuple[str, int]] = []
    prints = {a: fingerprint(a, settings, digest) for a in algorithms}
    for name in algorithms:
        for size in sizes:
            record = load_checkpoint(checkpoint_path(runs_dir, name, size), prints[name])
            if record is not None:
                done[name][size] = record
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
        write_json(
            checkpoint_path(runs_dir, name, size),
            {"fingerprint": prints[name], "result": record},
            compact=True,
        )
        done[name][size] = record
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
    _run_units(
        todo, evaluator, matrix_path, settings, workers, pool, finished, total, resumed, progress
    )
    del evaluator  # the searches are done: W goes before the documents are built
    release_freed_memory()

    paths: dict[str, Path] = {}
    for name in algorithms:
        out = Path(outputs[name]) if outputs and name in outputs else runs_dir / f"{name}.json"
        write_json(
            out,
            run_document(name, settings, shape, matrix_path, digest, done[name], skipped)
            | {"zone_mode": zones is not None},
            compact=True,
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


def _run_units(
    todo: list[tuple[str, int]],
    evaluator: Evaluator | None,
    matrix_path: Path,
    settings: OptimizeSettings,
    workers: int,
    pool: str,
    finished: Callable[[str, dict[str, Any], Any], None],
    total: int,
    resumed: int,
    progress: bool,
) -> None:
    """Search every (algorithm, size) unit; `finished` is called in the calling thread."""
    if not todo:
        return
    if evaluator is None:
        raise RuntimeError("searches left but no evaluator built")
    if workers == 1:
        with _progress_bar(total, resumed, progress) as bar:
            for name, size in todo:
                finished(name, search_one(evaluator, name, size, settings), bar)
        return
    # the pool (and its forked workers) exists before the progress bar's thread does
    with _make_pool(pool, min(workers, len(todo)), matrix_path, settings, evaluator) as executor:
        futures: dict[Future, str] = {}
        for name, size in todo:
            if pool == "thread":
                fut = executor.submit(_thread_task, evaluator, name, size, settings)
            else:
                fut = executor.submit(_process_task, name, size, settings)
            futures[fut] = name
        try:
            with _progress_bar(total, resumed, progress) as bar:
                for fut in as_completed(futures):
                    finished(futures[fut], fut.result(), bar)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        finally:
            _WORKER.clear()


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
        rec["seed"] = [settings.seed, zlib.crc32(algorithm.lower().encode()), size]
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


class _NoBar:
    def update(self, _: int) -> None:
        pass

    def __enter__(self) -> _NoBar:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def _progress_bar(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return _NoBar()
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="search", desc="optimize", dynamic_ncols=True)


# ------------------------------------------------------------------ Snakemake


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
