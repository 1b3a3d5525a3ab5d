"""One fold: the configured search on the training sessions, the pick scored on the test ones.

Everything that chooses (the ULTA signs, the searches, the pick among the
algorithms, the naive top-n picks) reads the fold's training matrix only;
the test matrix is read afterwards, to score what was chosen. The random
portfolios are drawn from the same universe with a stream of their own (the
validation seed, the fold, the size), scored in one batched call of the
tuned evaluator (Evaluator.statistics).
"""

from __future__ import annotations

import dataclasses
import logging
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stratopt.algorithms.moves import random_subsets
from stratopt.engine.evaluator import Evaluator
from stratopt.search.runner import search_one
from stratopt.search.settings import OptimizeSettings
from stratopt.selection.flags import hindsight_flags
from stratopt.validation.compare import (
    percentile,
    series_figures,
    spearman,
    survival,
    top_of,
    training_ratio_order,
    training_roi_order,
)
from stratopt.validation.universe import FoldUniverse

log = logging.getLogger(__name__)

#: The naive picks the search is compared with, by name: each ranks the training columns.
NAIVE = {"top_roi": training_roi_order, "top_ratio": training_ratio_order}


@dataclass
class SizeOutcome:
    """One fold at one size: the JSON record and the arrays pooled across folds."""

    record: dict[str, Any]
    pick_test: np.ndarray  # the pick's test-session P&L
    naive_test: dict[str, np.ndarray] = field(default_factory=dict)
    random_test_roi: np.ndarray = field(default_factory=lambda: np.empty(0))
    spearman: float | None = None


def fold_seed(seed: int, fold: int) -> int:
    """The search seed of a fold: folds draw independent streams (the units within use
    SeedSequence([that seed, algorithm, size]) as the optimize stage does)."""
    return int(np.random.SeedSequence([int(seed), int(fold)]).generate_state(1)[0])


def random_stream(seed: int, fold: int, size: int) -> np.random.Generator:
    """The random portfolios' generator: independent of the searches and of the data."""
    return np.random.default_rng(
        np.random.SeedSequence([int(seed), int(fold), int(size), zlib.crc32(b"random")])
    )


#: Rows per call of Evaluator.statistics: below the kernels' PARALLEL_ROWS (256), so
#: that scoring 1,000 random portfolios stays on the serial kernel. The job has one
#: core (threads: 1); numba's OpenMP pool cost CPU to start and to spin, for
#: the same numbers (each row is computed alone).
SERIAL_ROWS = 250


def train_evaluator(universe: FoldUniverse, settings: OptimizeSettings) -> Evaluator:
    """The configured objective over the training sessions (as the optimize stage builds it)."""
    from stratopt.engine.backend import get_xp

    evaluator = Evaluator(
        universe.train,
        xp=get_xp(settings.backend),
        labels=universe.labels if settings.balanced else None,
        **settings.evaluator_kwargs(),
    )
    evaluator.parallel = False  # one core per job, as the optimize stage's searches
    return evaluator


def roi_of(evaluator: Evaluator, sets: np.ndarray) -> np.ndarray:
    """Each portfolio's ROI over the evaluator's sessions, scored SERIAL_ROWS at a time."""
    parts = [
        evaluator.statistics(sets[start : start + SERIAL_ROWS])["roi"]
        for start in range(0, len(sets), SERIAL_ROWS)
    ]
    return np.concatenate(parts)


def run_fold(
    universe: FoldUniverse,
    settings: OptimizeSettings,
    algorithms: Sequence[str],
    sizes: Sequence[int],
    *,
    seed: int,
    random_portfolios: int,
    flag_drawdown_below: float,
) -> dict[int, SizeOutcome]:
    """Search, pick and score every size of one fold."""
    fold = universe.fold
    search = dataclasses.replace(settings, seed=fold_seed(seed, fold.index))
    train_ev = train_evaluator(universe, search)
    test_ev = Evaluator(universe.test, metric="roi")  # statistics and series only
    floor = settings.drawdown_floor
    # the naive rankings do not depend on the size: ranked once per fold
    orders = {key: rank(universe.train) for key, rank in NAIVE.items()}
    out: dict[int, SizeOutcome] = {}
    for size in sizes:
        started = time.perf_counter()
        finals = [search_one(train_ev, name, size, search) for name in algorithms]
        best = max(range(len(finals)), key=lambda k: (finals[k]["fitness"], -k))
        sets = {
            name: np.asarray(rec["best"], dtype=np.int64)
            for name, rec in zip(algorithms, finals, strict=True)
        }
        naive = {key: top_of(order, size) for key, order in orders.items()}
        # the pick, every algorithm's final and the naive picks: one batch of test statistics
        scored = np.stack([*sets.values(), *naive.values()])
        test_roi = roi_of(test_ev, scored)
        rnd = random_subsets(
            random_stream(seed, fold.index, size), universe.n_strategies, size, random_portfolios
        )
        random_roi = roi_of(test_ev, rnd)

        pick_name = algorithms[best]
        pick = sets[pick_name]
        train_fig = series_figures(train_ev.series(pick), floor)
        pick_test = test_ev.series(pick)
        test_fig = series_figures(pick_test, floor)
        rho = spearman([rec["fitness"] for rec in finals], test_roi[: len(finals)])
        naive_test = {key: test_ev.series(idx) for key, idx in naive.items()}
        record: dict[str, Any] = {
            "size": size,
            "pick": {
                "algorithm": pick_name,
                "train_fitness": finals[best]["fitness"],
                "names": [universe.names[i] for i in pick],
                "train": train_fig,
                "test": test_fig,
                "percentile": percentile(float(test_roi[best]), random_roi),
                "survival": survival(test_fig["mean_pnl"], train_fig["mean_pnl"]),
                "flags": hindsight_flags(
                    train_fig["max_drawdown"], train_fig["win_rate"], flag_drawdown_below
                ),
            },
            "algorithms": [
                {
                    "algorithm": name,
                    "train_fitness": rec["fitness"],
                    "test_roi": float(test_roi[k]),
                    "evaluations": rec["evaluations"],
                }
                for k, (name, rec) in enumerate(zip(algorithms, finals, strict=True))
            ],
            "spearman": rho,
            "random": {
                "count": int(len(random_roi)),
                "test_roi_mean": float(random_roi.mean()),
                "test_roi_median": float(np.median(random_roi)),
            },
            **{
                key: {
                    "test": series_figures(naive_test[key], floor),
                    "percentile": percentile(float(test_roi[len(finals) + j]), random_roi),
                }
                for j, key in enumerate(NAIVE)
            },
        }
        out[size] = SizeOutcome(record, pick_test, naive_test, random_roi, rho)
        log.info(
            "fold %d size %d: pick %s (train fitness %.6g), test ROI %.2f, percentile %.1f, %.2f s",
            fold.index,
            size,
            pick_name,
            finals[best]["fitness"],
            test_fig["roi"],
            record["pick"]["percentile"],
            time.perf_counter() - started,
        )
    return out
