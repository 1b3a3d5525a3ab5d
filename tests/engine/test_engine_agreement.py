"""Tuned engine == reference engine, on the real 500-strategy sample and on the twin.

Random portfolios of sizes 2..100, every metric, with and without ULTA, a
drawdown threshold, balanced mode, zone mode; swap chains against full
evaluation.
"""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd
import pytest

from engine_support import METRICS, assert_agree, load_sample, load_twin, random_sets
from stratopt.data.zones import zones_from_frame
from stratopt.engine import reference, ulta
from stratopt.engine import strategy_metrics as metrics
from stratopt.engine.evaluator import Evaluator

SIZES = [2, 3, 5, 8, 13, 21, 35, 60, 100]


@pytest.fixture(scope="module")
def sample(real_sample_csv):
    return load_sample(real_sample_csv)


@pytest.fixture(scope="module")
def twin(shared_data):
    return load_twin(shared_data, 1500)


@pytest.fixture(scope="module", params=["sample", "twin"])
def dataset(request):
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="module", params=[False, True], ids=["raw", "ulta"])
def prepared(request, dataset):
    matrix = dataset
    if request.param:
        matrix, _ = ulta.apply_ulta(matrix)
    return matrix, reference.correlation_matrix(matrix.values)


def _reference_all(values, sets, corr, **kw):
    return np.array([reference.fitness(values, s, corr=corr, **kw) for s in sets])


def _tuned_all(ev: Evaluator, sets_by_size: list[np.ndarray]) -> np.ndarray:
    return np.concatenate([ev.evaluate(s) for s in sets_by_size])


@pytest.mark.parametrize("metric", METRICS)
@pytest.mark.parametrize("threshold", ["none", "median"])
@pytest.mark.parametrize("compiled", [True, False], ids=["kernel", "array"])
def test_population_fitness_agrees(prepared, metric, threshold, compiled):
    matrix, corr = prepared
    values = matrix.values
    rng = np.random.default_rng(zlib.crc32(f"{metric}/{threshold}".encode()))
    by_size = [random_sets(rng, matrix.n_strategies, n, 4) for n in SIZES]
    flat = [s for group in by_size for s in group]
    if threshold == "none":
        thr = 0.0
    else:  # half the portfolios fall under it, so the halving is exercised both ways
        dds = [reference.max_drawdown(reference.portfolio_series(values, s)) for s in flat]
        thr = float(np.median(dds))
    ev = Evaluator(values, metric=metric, drawdown_threshold=thr, compiled=compiled)
    assert ev.compiled is compiled
    got = _tuned_all(ev, by_size)
    want = _reference_all(values, flat, corr, metric=metric, drawdown_threshold=thr)
    assert_agree(got, want, floor=1e-3, what=f"{metric} thr={thr}")
    assert ev.evaluations == len(flat)


@pytest.mark.parametrize(
    ("metric", "floor"), [("ratio", None), ("guarded ratio", None), ("guarded ratio", 50.0)]
)
@pytest.mark.parametrize("threshold", ["none", "median"])
def test_kernel_scoring_gives_the_python_scorings_bits(prepared, metric, floor, threshold):
    """Small batches are scored inside the kernel (kernels.population_fitness, the
    climbs' scalar formulas); the fitness must be the bits of the statistics-then-
    _score path, zero drawdowns and one-strategy portfolios included."""
    matrix, _ = prepared
    rng = np.random.default_rng(zlib.crc32(f"{metric}/{floor}/{threshold}".encode()))
    by_size = [random_sets(rng, matrix.n_strategies, n, 30) for n in (1, *SIZES)]
    thr = 0.0
    if threshold == "median":
        probe = Evaluator(matrix.values, metric=metric, drawdown_floor=floor)
        thr = float(np.median(probe.statistics(by_size[6])["max_dd"]))
    ev = Evaluator(matrix.values, metric=metric, drawdown_floor=floor, drawdown_threshold=thr)
    assert ev._fused is not None  # the kernels score these
    fused = _tuned_all(ev, by_size)
    ev._fused = None
    plain = _tuned_all(ev, by_size)
    np.testing.assert_array_equal(fused.view(np.int64), plain.view(np.int64))


def test_reference_without_dense_matrix_agrees_with_dense(sample):
    rng = np.random.default_rng(5)
    for s in random_sets(rng, sample.n_strategies, 30, 10):
        corr = reference.correlation_matrix(sample.values)
        a = reference.fitness(sample.values, s, corr=corr)
        b = reference.fitness(sample.values, s)
        assert abs(a - b) <= 1e-12 * max(1.0, abs(a))


@pytest.mark.parametrize("metric", ["ratio", "expectancy", "win percentage"])
@pytest.mark.parametrize("compiled", [True, False], ids=["kernel", "array"])
def test_balanced_mode_agrees(sample, metric, compiled):
    rng = np.random.default_rng(11)
    labels = list(rng.choice(["jan.csv", "feb.csv", "mar.csv"], sample.n_strategies))
    corr = reference.correlation_matrix(sample.values)
    ev = Evaluator(
        sample.values,
        metric=metric,
        labels=labels,
        balanced=True,
        penalty_factor=2.5,
        compiled=compiled,
    )
    by_size = [random_sets(rng, sample.n_strategies, n, 3) for n in SIZES]
    flat = [s for g in by_size for s in g]
    want = _reference_all(
        sample.values, flat, corr, metric=metric, labels=labels, balanced=True, penalty_factor=2.5
    )
    assert_agree(_tuned_all(ev, by_size), want, floor=1e-3, what=f"balanced {metric}")
    # The balance penalty is really applied: without it the numbers differ.
    plain = Evaluator(sample.values, metric=metric)
    assert not np.allclose(_tuned_all(plain, by_size), want)


def _zone_frame(matrix, k: int, rng: np.random.Generator) -> pd.DataFrame:
    """(Date, Zone, Day, ...) rows: each day's P&L split across k zones, plus rows the loader drops."""
    t, n = matrix.shape
    share = rng.dirichlet(np.ones(k), size=(t, n)).transpose(0, 2, 1)  # (t, k, n)
    parts = share * matrix.values[:, None, :]
    rows = []
    for d in range(t):
        for z in range(k):
            rows.append([str(matrix.dates[d]), f"Zone {z + 1}", matrix.days[d], *parts[d, z]])
        rows.append([str(matrix.dates[d]), "Outside Market", matrix.days[d], *rng.normal(size=n)])
    frame = pd.DataFrame(rows, columns=["Date", "Zone", "Day", *matrix.names])
    return frame.sample(frac=1.0, random_state=1).reset_index(drop=True)


@pytest.mark.parametrize("metric", METRICS)
def test_zone_mode_agrees(dataset, metric):
    rng = np.random.default_rng(17)
    matrix = dataset
    if matrix.n_strategies > 400:  # keep the zone frame small
        keep = rng.choice(matrix.n_strategies, 400, replace=False)
        matrix = type(matrix)(
            dates=matrix.dates,
            days=matrix.days,
            names=[matrix.names[i] for i in keep],
            values=matrix.values[:, keep],
        )
    zones = zones_from_frame(_zone_frame(matrix, 3, rng), weights=[0.5, 0.3, 0.2])
    assert zones.zones == ["Zone 1", "Zone 2", "Zone 3"]
    by_size = [random_sets(rng, matrix.n_strategies, n, 2) for n in SIZES]
    flat = [s for g in by_size for s in g]
    thr = 3000.0
    legacy = Evaluator(None, zones=zones, metric=metric, drawdown_threshold=thr)
    want = np.array(
        [reference.zone_fitness(zones, s, metric=metric, drawdown_threshold=thr) for s in flat]
    )
    assert_agree(_tuned_all(legacy, by_size), want, floor=1e-3, what=f"zone {metric}")
    corr = reference.correlation_matrix(zones.collapsed())
    pearson = Evaluator(
        None, zones=zones, metric=metric, drawdown_threshold=thr, zone_correlation=True
    )
    want_r = np.array(
        [
            reference.zone_fitness(zones, s, metric=metric, drawdown_threshold=thr, corr=corr)
            for s in flat
        ]
    )
    assert_agree(_tuned_all(pearson, by_size), want_r, floor=1e-3, what=f"zone+corr {metric}")


@pytest.mark.parametrize("metric", ["ratio", "less max dd", "profit factor", "expectancy"])
@pytest.mark.parametrize("compiled", [True, False], ids=["kernel", "array"])
def test_swap_chain_agrees_with_full_evaluation(dataset, metric, compiled):
    rng = np.random.default_rng(23)
    values = dataset.values
    n_strat = dataset.n_strategies
    thr = 4000.0
    ev = Evaluator(values, metric=metric, drawdown_threshold=thr, compiled=compiled)
    start = rng.choice(n_strat, 40, replace=False)
    sw = ev.swapper(start)
    assert_agree(np.array([sw.fitness]), np.array([ev.evaluate_one(start)]), 1e-3, "start")
    checked = 0
    for step in range(3000):
        pos = int(rng.integers(40))
        new = int(rng.integers(n_strat))
        if new in sw.indices:
            continue
        proposed = sw.propose(pos, new)
        if step % 97 == 0:  # the proposal is the fitness of the swapped set
            trial = sw.indices.copy()
            trial[pos] = new
            assert_agree(np.array([proposed]), np.array([ev.evaluate_one(trial)]), 1e-3, "propose")
            checked += 1
        if rng.random() < 0.4:
            sw.accept(pos, new)
    assert checked > 10
    assert len(set(sw.indices.tolist())) == 40
    full = ev.evaluate_one(sw.indices)
    ref = reference.fitness(values, sw.indices, metric=metric, drawdown_threshold=thr)
    assert_agree(np.array([sw.fitness, full]), np.array([ref, ref]), 1e-3, "after chain")
    # A batch of proposals equals the same swaps one by one.
    pos = rng.integers(40, size=50)
    outside = np.setdiff1d(np.arange(n_strat), sw.indices)
    new = rng.choice(outside, 50, replace=False)
    batch = sw.propose_many(pos, new)
    single = np.array([sw.propose(p, q) for p, q in zip(pos, new, strict=True)])
    assert_agree(batch, single, 1e-3, "propose_many")


def test_swapper_counts_and_rejects(sample):
    ev = Evaluator(sample.values)
    sw = ev.swapper([0, 1, 2])
    before = ev.evaluations
    sw.propose(0, 10)
    sw.propose_many([0, 1], [10, 11])
    assert ev.evaluations == before + 3
    with pytest.raises(ValueError, match="already"):
        sw.propose(0, 1)
    with pytest.raises(ValueError, match="distinct"):
        ev.swapper([3, 3])
    sw.accept(0, 10)
    assert sorted(sw.indices.tolist()) == [1, 2, 10]
    assert sw.fitness == pytest.approx(ev.evaluate_one([10, 1, 2]), rel=1e-12)


def test_series_is_the_equal_weight_mean(sample):
    idx = [4, 40, 400]
    np.testing.assert_allclose(
        Evaluator(sample.values).series(idx), sample.values[:, idx].mean(axis=1), rtol=1e-13
    )


@pytest.mark.parametrize("data", ["sample", "twin"])
def test_strategy_metrics_and_ulta_agree(request, data):
    matrix = request.getfixturevalue(data)
    want = reference.strategy_metrics(matrix)
    got = metrics.metrics_frame(matrix)
    volume = np.abs(matrix.values).sum(axis=0)  # cancellation scale of each column
    for col in reference.METRIC_COLUMNS:
        floor = 1e-3 if col in ("Win Percentage", "Profit Factor") else float(volume.max()) * 1e-9
        assert_agree(got[col].to_numpy(), want[col].to_numpy(), floor, col)
    ref_m, ref_report = reference.apply_ulta(matrix)
    tun_m, tun_report = ulta.apply_ulta(matrix)
    assert tun_m.names == ref_m.names
    assert tun_m.labels == ref_m.labels
    np.testing.assert_array_equal(tun_m.values, ref_m.values)
    assert list(tun_report["strategy"]) == list(ref_report["strategy"])
    for col in reference.REPORT_COLUMNS[1:]:
        assert_agree(tun_report[col].to_numpy(), ref_report[col].to_numpy(), 1e-3, col)
