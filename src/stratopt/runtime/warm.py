"""Every numba kernel compiled into its cache once, at set-up (`stratopt warm`, `make setup`).

Why: the kernels are compiled on their first use and cached on disk
(`cache=True`), so a machine's first pipeline run compiled them inside its
jobs: the default run took 64 s instead of 20, and validate, compiling beside
optimize and the correlation shard, peaked at 531 MB (docs/performance.md,
2026-12-02). Here the real code paths run once on a small random matrix (the
searches of every algorithm with both presets, the evaluator's batch, swap and
statistics kernels, the correlation tile kernel in float64 and float32), so
that every kernel is compiled for the argument types the stages give it, one
at a time, in one process. A kernel whose source changes is compiled again on
its next use, as before.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

#: The modules that hold numba kernels (each compiled with `cache=True`).
KERNEL_MODULES = (
    "stratopt.engine.kernels",
    "stratopt.algorithms.compiled",
    "stratopt.algorithms.sum_tree",
    "stratopt.algorithms.bo_algebra",
    "stratopt.correlation.fused",
)

#: Kernels no stage calls: the one-at-a-time references the tests check others against.
REFERENCE_ONLY = frozenset({"stratopt.algorithms.bo_algebra.bo_append"})

#: Strategies and sessions of the warm-up matrix: enough for every code path
#: (BO's model fills and halves, a shard has several tiles), small enough to run fast.
STRATEGIES, SESSIONS = 400, 60


def kernels() -> Iterator[tuple[str, Any]]:
    """(module.name, dispatcher) of every compiled kernel; `inline="always"` helpers
    are compiled into their callers and have no entry of their own."""
    from numba.core.registry import CPUDispatcher

    for name in KERNEL_MODULES:
        module = importlib.import_module(name)
        for attr, value in sorted(vars(module).items()):
            if isinstance(value, CPUDispatcher) and value.targetoptions.get("inline") != "always":
                yield f"{name}.{attr}", value


def not_cached() -> list[str]:
    """The kernels without an index in numba's cache (none compiled for them yet).

    The index file is asked, not the dispatcher's signatures: a kernel loaded from
    the cache brings the kernels it calls compiled into it, and theirs stay empty."""
    return [
        name
        for name, dispatcher in kernels()
        if not Path(dispatcher._cache._cache_file._index_path).is_file()
    ]


def _matrix() -> Any:
    from stratopt.data.matrix import Matrix

    rng = np.random.default_rng(20251202)
    values = rng.normal(0.0, 100.0, size=(SESSIONS, STRATEGIES))
    return Matrix(
        dates=np.datetime64("2024-01-04") + np.arange(SESSIONS) * 7,
        days=["Thursday"] * SESSIONS,
        names=[f"warm {i}" for i in range(STRATEGIES)],
        values=values,
    )


def _searches(matrix: Any) -> None:
    """Every algorithm, both presets, the fused metrics and one without (`roi`)."""
    from stratopt.algorithms import available_algorithms
    from stratopt.search.runner import build_evaluator, search_one
    from stratopt.search.settings import OptimizeSettings

    for preset in ("legacy", "default"):
        for metric in ("guarded ratio", "roi"):
            settings = OptimizeSettings(
                preset=preset, min_size=5, max_size=5, generations=20, population=15, metric=metric
            )
            evaluator = build_evaluator(matrix, settings)
            for algorithm in available_algorithms():
                search_one(evaluator, algorithm, 5, settings)


def _evaluator(matrix: Any) -> None:
    """The batch kernels on one thread and on numba's pool, and the statistics."""
    from stratopt.algorithms.moves import random_subsets
    from stratopt.engine.evaluator import Evaluator

    sets = random_subsets(np.random.default_rng(1), STRATEGIES, 7, 300)
    for metric in ("ratio", "roi"):
        evaluator = Evaluator(matrix.values, metric=metric)
        evaluator.parallel = True
        evaluator.evaluate(sets)
        evaluator.statistics(sets[:10])
        evaluator.evaluate(sets[:10])


def _correlation(matrix: Any) -> None:
    from stratopt.correlation.settings import CorrelationSettings
    from stratopt.correlation.shard import compute_shard

    for dtype in ("float64", "float32"):
        settings = CorrelationSettings(shards=1, tile=128, dtype=dtype)
        compute_shard(matrix, 0, settings, fused=True)


STEPS: tuple[tuple[str, Callable[[Any], None]], ...] = (
    ("searches", _searches),
    ("evaluator", _evaluator),
    ("correlation", _correlation),
)


def warm() -> dict[str, float]:
    """Run every step; seconds per step."""
    matrix = _matrix()
    seconds = {}
    for name, step in STEPS:
        start = time.perf_counter()
        step(matrix)
        seconds[name] = time.perf_counter() - start
    return seconds
