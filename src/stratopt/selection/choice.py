"""The best overall size: never by an unbounded fitness.

The select stage finds the best portfolio of every size on all sessions (a
hindsight search). Which size to recommend is a different question, and the
legacy's answer (the largest fitness) is the worst one: its `ratio` scores a
portfolio without drawdown as ROI x 100, so the artefact decides. The rule:

1. validation ran (validation.json): the size validate recommends, i.e. the
   validated size with the best pooled out-of-sample guarded ratio;
2. otherwise: the size whose winner has the largest guarded ratio (minus the
   configured correlation penalty), computed for every winner whatever the
   configured metric was: in sample, hindsight, and said so.

summary.json carries the rule that chose (`best_overall_rule`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from stratopt import contracts
from stratopt.data.matrix import Matrix
from stratopt.errors import InputError

log = logging.getLogger(__name__)

GUARDED = "guarded ratio"


def guarded_fitness(
    matrix: Matrix, sets: Mapping[int, Sequence[int]], objective: Mapping[str, Any]
) -> dict[int, float]:
    """size -> the guarded ratio fitness of that size's winner (the configured penalties).

    Outside balanced mode the evaluator holds only the winners' columns (a few
    thousand of 25,544 on the twin): a portfolio's fitness reads its own columns
    only, each normalised on its own, so the numbers are the same bit for bit
    while the evaluator's N x 2T matrix shrinks from 33 MB to a few. The kernels'
    arithmetic runs in Python loops (stratopt.engine.loop_kernels, the same bits):
    no numba, LLVM or scipy in this process.
    """
    from stratopt.engine.evaluator import Evaluator

    balanced = bool(objective.get("balanced", False))
    values, positions = _columns_of(matrix, sets, keep_all=balanced)
    ev = Evaluator(
        values,
        metric=GUARDED,
        drawdown_threshold=float(objective.get("drawdown_threshold", 0.0)),
        drawdown_floor=objective.get("drawdown_floor"),
        balanced=balanced,
        labels=matrix.labels if balanced else None,
        penalty_factor=float(objective.get("penalty_factor", 1.0)),
        compiled="python",  # one portfolio per size: numba's loading would cost far more
    )
    return {size: ev.evaluate_one(positions[np.asarray(best)]) for size, best in sets.items()}


def _columns_of(
    matrix: Matrix, sets: Mapping[int, Sequence[int]], *, keep_all: bool
) -> tuple[np.ndarray, np.ndarray]:
    """(the columns the sets use, C-ordered; strategy index -> its column there).

    `keep_all` (balanced mode, whose penalty counts every source file) keeps them all.
    """
    n = matrix.n_strategies
    if keep_all or not sets:
        return matrix.values, np.arange(n, dtype=np.int64)
    used = np.unique(np.concatenate([np.asarray(s, dtype=np.int64) for s in sets.values()]))
    positions = np.full(n, -1, dtype=np.int64)
    positions[used] = np.arange(len(used), dtype=np.int64)
    return np.ascontiguousarray(matrix.values[:, used]), positions


def read_validation(path: str | Path) -> dict[str, Any]:
    """validation.json, checked against its contract (ContractError names the key)."""
    doc = contracts.VALIDATION.read_json_at(path)
    if doc is None:
        raise InputError(path, "cannot read the validation: no such file")
    return doc


def choose_best_size(
    guarded: Mapping[int, float], validation: Mapping[str, Any] | None
) -> tuple[int, dict[str, Any]]:
    """(the chosen size, the rule that chose it, for summary.json)."""
    by_guarded = max(guarded, key=lambda s: (guarded[s], -s))
    if validation is not None:
        size = int(validation["recommended_size"])
        pooled = validation.get("pooled") or {}
        if size in guarded:
            return size, {
                "rule": "out-of-sample",
                "text": (
                    f"size {size}: {validation.get('recommendation_rule', 'validation')} "
                    "(validation.json); the portfolio is that size's pick on all sessions"
                ),
                "verdict": validation.get("verdict"),
                "skill": validation.get("skill"),
                "out_of_sample_roi": pooled.get("roi"),
                "percentile": pooled.get("percentile"),
                "in_sample_guarded_choice": by_guarded,
            }
        log.warning(
            "validation recommends size %d, which select did not search: guarded rule instead",
            size,
        )
    return by_guarded, {
        "rule": "guarded ratio",
        "text": (
            f"size {by_guarded}: the largest guarded ratio (ROI / max(MaxDD, floor)) among the "
            "sizes' winners, in sample: hindsight, not evidence"
            + ("" if validation is None else "; validation recommended a size not searched here")
        ),
        "verdict": None if validation is None else validation.get("verdict"),
    }
