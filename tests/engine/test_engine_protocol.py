"""The evaluator protocol the searches are typed against: both engines provide it."""

from __future__ import annotations

import numpy as np
import pytest

from stratopt.bench.sidebyside.reference_evaluator import ReferenceEvaluator
from stratopt.engine.evaluator import Evaluator
from stratopt.engine.protocol import EvaluatorLike, StatisticsEvaluator, SwapperLike
from stratopt.engine.reference import correlation_matrix


def test_the_tuned_and_the_reference_evaluator_are_evaluator_like() -> None:
    values = np.random.default_rng(0).normal(size=(20, 12))
    tuned = Evaluator(values, metric="ratio")
    plain = ReferenceEvaluator(values, correlation_matrix(values), metric="ratio")
    for ev in (tuned, plain):
        assert isinstance(ev, EvaluatorLike)
        swapper = ev.swapper(np.arange(4))
        assert isinstance(swapper, SwapperLike)
        # the swapper scores what the evaluator scores (the tuned one in O(T): last bits may differ)
        before = ev.evaluations
        value = swapper.propose(1, 7)
        assert ev.evaluations == before + 1
        assert value == pytest.approx(ev.evaluate_one([0, 7, 2, 3]), rel=1e-12)
    # validation needs the statistics behind the fitness: the tuned engine only
    assert isinstance(tuned, StatisticsEvaluator)
    assert not isinstance(plain, StatisticsEvaluator)
