"""The same engine code on CuPy (skipped without a CUDA device), and the bench command's shape."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine_support import METRICS, assert_agree, load_sample, random_sets
from stratopt.cli import main
from stratopt.engine import reference
from stratopt.engine import strategy_metrics as metrics
from stratopt.engine.backend import cupy_available
from stratopt.engine.evaluator import Evaluator


@pytest.mark.gpu
@pytest.mark.skipif(not cupy_available(), reason="needs CuPy and a CUDA device")
@pytest.mark.parametrize("metric", METRICS)
def test_cupy_engine_agrees_with_reference(real_sample_csv, metric):
    import cupy

    sample = load_sample(real_sample_csv)
    rng = np.random.default_rng(3)
    sets = random_sets(rng, sample.n_strategies, 35, 20)
    ev = Evaluator(sample.values, metric=metric, drawdown_threshold=4000.0, xp=cupy)
    assert not ev.compiled
    want = [
        reference.fitness(sample.values, s, metric=metric, drawdown_threshold=4000.0) for s in sets
    ]
    assert_agree(ev.evaluate(sets), np.array(want), 1e-3, metric)
    sw = ev.swapper(sets[0])
    outside = np.setdiff1d(np.arange(sample.n_strategies), sets[0])[:8]
    got = sw.propose_many(np.arange(8), outside)
    single = np.array([sw.propose(i, j) for i, j in zip(range(8), outside, strict=True)])
    assert_agree(got, single, 1e-3, "swaps")
    cols = metrics.strategy_metrics(sample.values, xp=cupy)
    want_m = reference.strategy_metrics(sample)
    assert_agree(cupy.asnumpy(cols["Max Drawdown"]), want_m["Max Drawdown"].to_numpy(), 1e-3, "mdd")


def test_bench_fitness_runs_and_reports_every_case(tmp_path, capsys):
    out = tmp_path / "bench.json"
    code = main(
        [
            "bench",
            "fitness",
            "--strategies",
            "400",
            "--repeats",
            "1",
            "--seconds",
            "0.05",
            "--source",
            "factor",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert data["shape"] == [82, 400]
    cases = {(r["case"], r["engine"]) for r in data["rows"]}
    assert ("population P=1000 n=35", "tuned") in cases
    assert ("swap n=35", "tuned-batch") in cases
    assert ("metrics+ULTA all strategies", "reference") in cases
    for row in data["rows"]:
        assert (row.get("per_second") or 0) > 0 or row.get("seconds", 0) > 0
    assert "speedup" in capsys.readouterr().out
