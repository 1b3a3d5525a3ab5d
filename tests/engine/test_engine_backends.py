"""The same engine code on CuPy (skipped without a CUDA device), and the bench command's shape."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from engine_support import METRICS, assert_agree, load_sample, random_sets
from stratopt.bench.fitness import AGREEMENT, PROBE, checks, max_rel_diff
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


@pytest.mark.slow  # the benchmark command: 32 timed child processes
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
    # the figures are checked, not only timed: every tuned rate comes with the fitness of
    # the same PROBE portfolios as the reference's (equal to 1e-9) and an evaluation count
    # that adds up; the metrics rows are timed only
    assert data["problems"] == []
    timed = [r for r in data["rows"] if "per_second" in r]
    assert len(timed) == 2 * 3 * 2 + 2 * 3  # populations x sizes x engines, swaps x 3 engines
    for row in timed:
        assert len(row["probe"]) == PROBE and all(math.isfinite(v) for v in row["probe"])
        if row["engine"] != "reference":
            assert row["counts_agree"] is True, row
            assert row["probe_max_rel_diff"] <= AGREEMENT, row
    assert all(r["seconds"] > 0 for r in data["rows"] if "per_second" not in r)
    out_text = capsys.readouterr().out
    assert "speedup" in out_text and "FAILED" not in out_text


def test_bench_fitness_checks_fail_on_a_wrong_engine_or_count() -> None:
    """The checks above can fail: a differing fitness or a count that does not add up."""
    probe = [1.0, -2.0, 1e-4]
    rows = [
        {"case": "c", "engine": "reference", "probe": probe},
        {"case": "c", "engine": "tuned", "probe": [1.0, -2.0 * (1 + 1e-6), 1e-4]},
        {"case": "c", "engine": "tuned-batch", "probe": probe, "counts_agree": False},
    ]
    for row in rows:
        row["probe_max_rel_diff"] = max_rel_diff(row["probe"], probe)
    assert rows[0]["probe_max_rel_diff"] == 0.0
    assert checks(rows) == [
        "c (tuned): fitness differs from the reference by 1e-06",
        "c (tuned-batch): the evaluator counted other evaluations than the loop made",
    ]
    # values near zero are compared to 1e-12 absolute, as docs/engine.md defines agreement
    assert max_rel_diff([1e-13], [0.0]) <= AGREEMENT < max_rel_diff([1e-11], [0.0])
