"""Running the (algorithm, size) units: one search, and the worker pool that runs many.

The units run on `workers` workers of the configured pool, sharing the
evaluator the stage built (threads: a view of it each; processes: forked
after it was built, so they inherit it; see docs/algorithms.md); a worker
process dies with its parent. `finished` is called in the calling thread for
each unit as it completes (the checkpointing of stratopt.search.optimize).
"""

from __future__ import annotations

import ctypes
import logging
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import (
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from stratopt.data.matrix import Matrix, read_matrix
from stratopt.data.zone_matrix import read_zone_data
from stratopt.data.zones import ZoneData
from stratopt.engine.protocol import EvaluatorLike
from stratopt.errors import ConfigError
from stratopt.runtime.atomic import finite_or_none
from stratopt.search.settings import OptimizeSettings, size_seed

if TYPE_CHECKING:  # imported where it is built: numba loads with it
    from stratopt.engine.evaluator import Evaluator

log = logging.getLogger(__name__)

POOLS = ("process", "thread")
#: The faster pool on the production workload (docs/algorithms.md has the figures).
DEFAULT_POOL = "process"


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


def run_units(
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
                    # popped: a finished search's record (its trace) is not kept to the end
                    finished(futures.pop(fut), fut.result(), bar)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
        finally:
            _WORKER.clear()


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


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
