"""Out-of-sample validation on the real 500-strategy sample.

What must hold: nothing of a fold's test sessions reaches its choice (the
test data is replaced and the choice stays the same, bit for bit); ULTA is
decided on the training sessions alone; the percentile is what its
definition says, also end to end (recomputed by brute force from the random
portfolios' own stream); the pooled figures are the stitched series'; the
outputs are strict JSON and the same bytes for the same config and seed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from stratopt.algorithms.moves import random_subsets
from stratopt.data.ingest import read_source
from stratopt.data.matrix import Matrix, write_matrix
from stratopt.engine.ulta import inversion_decisions
from stratopt.errors import ConfigError, InputError
from stratopt.search.settings import OptimizeSettings
from stratopt.validation.compare import percentile, series_figures, spearman
from stratopt.validation.folds import plan_folds
from stratopt.validation.run import random_stream, run_fold
from stratopt.validation.settings import ValidationSettings
from stratopt.validation.stage import validate
from stratopt.validation.universe import fold_universe
from stratopt.validation.verdict import verdict

SEARCH = {
    "algorithms": ["ga", "pso", "sa", "de", "aco", "hc", "bo", "rs"],
    "min_size": 5,
    "max_size": 8,
    "generations": 10,
    "population": 10,
    "seed": 7,
}


def config(**validation: Any) -> dict[str, Any]:
    return {
        "metric": "guarded ratio",
        "ulta": True,
        "optimize": dict(SEARCH),
        "validation": {"random_portfolios": 300, **validation},
    }


@pytest.fixture(scope="module")
def sample(real_sample_csv: Path) -> Matrix:
    matrix, _ = read_source(real_sample_csv)
    return matrix


@pytest.fixture(scope="module")
def sample_parquet(sample: Matrix, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("matrix") / "matrix.parquet"
    write_matrix(sample, path)
    return path


@pytest.fixture(scope="module")
def rolling(sample_parquet: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("rolling")
    doc = validate(sample_parquet, config(), out / "validation.json", out / "oos.parquet")
    return {"doc": doc, "dir": out}


# ------------------------------------------------------------------ the plan


def test_folds_end_on_the_last_session_and_never_overlap() -> None:
    rolling = plan_folds(82, ValidationSettings(train=40, test=14))
    assert [(f.train_start, f.train_end, f.test_start, f.test_end) for f in rolling] == [
        (0, 40, 40, 54),
        (14, 54, 54, 68),
        (28, 68, 68, 82),
    ]
    odd = plan_folds(80, ValidationSettings(train=30, test=10, step=15))
    assert odd[-1].test_end == 80 and all(f.n_train == 30 for f in odd)
    assert all(a.test_end <= b.test_start for a, b in zip(odd, odd[1:], strict=False))
    grow = plan_folds(82, ValidationSettings(scheme="expanding", train=40, test=14))
    assert [f.train_start for f in grow] == [0, 0, 0] and [f.n_train for f in grow] == [40, 54, 68]
    (static,) = plan_folds(82, ValidationSettings(scheme="static", train=54, test=28))
    assert (static.train_start, static.test_start, static.test_end) == (0, 54, 82)


def test_impossible_plans_are_refused_with_the_reason() -> None:
    with pytest.raises(ConfigError, match="82"):
        plan_folds(82, ValidationSettings(train=70, test=14))
    with pytest.raises(ConfigError, match="overlap"):
        ValidationSettings(test=14, step=7)
    with pytest.raises(ConfigError, match="scheme"):
        ValidationSettings(scheme="monthly")


def test_schema_defaults_are_the_code_defaults(repo: Path) -> None:
    import yaml

    schema = yaml.safe_load((repo / "workflow" / "schemas" / "config.schema.yaml").read_text())
    props = schema["properties"]["validation"]["properties"]
    code = ValidationSettings()
    for key, spec in props.items():
        want = getattr(code, key)
        assert spec["default"] == (list(want) if isinstance(want, tuple) else want), key
    assert schema["properties"]["metric"]["default"] == OptimizeSettings().metric


# ------------------------------------------------------------------ no leakage


def test_train_only_ulta(sample: Matrix) -> None:
    fold = plan_folds(sample.n_days, ValidationSettings())[0]
    writable = Matrix(sample.dates, sample.days, sample.names, sample.values.copy(), sample.labels)
    universe = fold_universe(writable, fold, ulta=True)
    np.testing.assert_array_equal(writable.values, sample.values)  # the signs go on copies
    train = sample.values[fold.train]
    want = np.asarray(inversion_decisions(train)["invert"], dtype=bool)
    np.testing.assert_array_equal(universe.inverted, want)
    everywhere = np.asarray(inversion_decisions(sample.values)["invert"], dtype=bool)
    assert (want != everywhere).sum() > 20  # deciding on all sessions would differ: look-ahead
    sign = np.where(want, -1.0, 1.0)
    np.testing.assert_array_equal(universe.train, train * sign)
    np.testing.assert_array_equal(universe.test, sample.values[fold.test] * sign)
    assert universe.names[int(np.flatnonzero(want)[0])].endswith("_inv")
    assert (universe.train.sum(axis=0) >= 0).all()  # every training loser was turned


def _choice(outcomes: dict[int, Any]) -> dict[int, Any]:
    """What a fold chose, per size (everything decided on the training sessions)."""
    return {
        size: (
            o.record["pick"]["algorithm"],
            o.record["pick"]["names"],
            o.record["pick"]["train_fitness"],
            o.record["pick"]["train"],
            [(a["algorithm"], a["train_fitness"]) for a in o.record["algorithms"]],
        )
        for size, o in outcomes.items()
    }


def test_changing_the_test_sessions_leaves_the_fold_choice_unchanged(sample: Matrix) -> None:
    settings = OptimizeSettings.from_config(config())
    fold = plan_folds(sample.n_days, ValidationSettings())[1]
    kwargs = {"seed": 42, "random_portfolios": 200, "flag_drawdown_below": 1.0}
    before = run_fold(
        fold_universe(sample, fold, True), settings, SEARCH["algorithms"], [5, 8], **kwargs
    )
    rng = np.random.default_rng(3)
    values = sample.values.copy()
    outside = np.ones(sample.n_days, dtype=bool)
    outside[fold.train] = False  # every session but the training ones: the test and the rest
    values[outside] = rng.normal(0, 5000, size=(int(outside.sum()), sample.n_strategies))
    changed = Matrix(sample.dates, sample.days, sample.names, values, sample.labels)
    after = run_fold(
        fold_universe(changed, fold, True), settings, SEARCH["algorithms"], [5, 8], **kwargs
    )
    assert _choice(after) == _choice(before)
    for size in (5, 8):  # ... while what was scored on the test sessions did change
        assert after[size].record["pick"]["test"] != before[size].record["pick"]["test"]


def test_static_validation_choice_is_blind_to_the_test_period(
    sample: Matrix, sample_parquet: Path, tmp_path: Path
) -> None:
    cfg = config(scheme="static", train=54, test=28, sizes=[6])
    a = validate(sample_parquet, cfg, tmp_path / "a.json", tmp_path / "a.parquet")
    values = sample.values.copy()
    values[54:] = -values[54:][::-1]  # the test period turned upside down and reversed
    path = tmp_path / "changed.parquet"
    write_matrix(Matrix(sample.dates, sample.days, sample.names, values, sample.labels), path)
    b = validate(path, cfg, tmp_path / "b.json", tmp_path / "b.parquet")
    pa_, pb = a["folds"][0]["sizes"][0]["pick"], b["folds"][0]["sizes"][0]["pick"]
    for key in ("algorithm", "names", "train_fitness", "train", "flags"):
        assert pa_[key] == pb[key], key
    assert a["folds"][0]["inverted"] == b["folds"][0]["inverted"]
    assert pa_["test"]["roi"] != pb["test"]["roi"]


# ------------------------------------------------------------------ the comparisons


def test_percentile_on_constructed_samples() -> None:
    sample = np.arange(1.0, 11.0)  # 1..10
    assert percentile(5.0, sample) == 45.0  # four below, one tie counted half
    assert percentile(10.5, sample) == 100.0 and percentile(0.0, sample) == 0.0
    assert percentile(3.0, np.full(7, 3.0)) == 50.0
    assert percentile(2.0, np.array([1.0, 2.0, 2.0, 3.0])) == 50.0


def test_the_percentile_end_to_end_is_the_brute_force_one(
    sample: Matrix, rolling: dict[str, Any]
) -> None:
    doc = rolling["doc"]
    folds = plan_folds(sample.n_days, ValidationSettings())
    pooled_random = {}
    for fold, header in zip(folds, doc["folds"], strict=True):
        universe = fold_universe(sample, fold, True)
        index = {n: i for i, n in enumerate(universe.names)}
        for rec in header["sizes"]:
            size = rec["size"]
            sets = random_subsets(random_stream(42, fold.index, size), 500, size, 300)
            roi = np.array([universe.test[:, s].mean(axis=1).sum() for s in sets])
            pick = [index[n] for n in rec["pick"]["names"]]
            pick_roi = universe.test[:, pick].mean(axis=1).sum()
            assert rec["pick"]["test"]["roi"] == pytest.approx(pick_roi, rel=1e-12)
            below = np.count_nonzero(roi < pick_roi - 1e-9)
            ties = np.count_nonzero(np.abs(roi - pick_roi) <= 1e-9)
            assert rec["pick"]["percentile"] == pytest.approx(100 * (below + ties / 2) / 300)
            pooled_random[size] = pooled_random.get(size, 0.0) + roi
    for entry in doc["by_size"]:
        pooled = entry["pooled"]
        want = percentile(pooled["roi"], pooled_random[entry["size"]])
        assert pooled["percentile"] == pytest.approx(want)
        assert pooled["random"]["count"] == 300


def test_pooled_figures_are_those_of_the_stitched_series(rolling: dict[str, Any]) -> None:
    doc = rolling["doc"]
    table = pq.read_table(rolling["dir"] / "oos.parquet").to_pandas()
    assert doc["sessions"]["out_of_sample"] == 42
    for entry in doc["by_size"]:
        rows = table[table["size"] == entry["size"]].sort_values("session")
        assert list(rows["session"]) == list(range(40, 82))  # each test session once, in order
        want = series_figures(rows["pick"].to_numpy())
        for key in ("roi", "max_drawdown", "win_rate", "mean_pnl", "guarded_ratio"):
            assert entry["pooled"][key] == pytest.approx(want[key], rel=1e-12, abs=1e-9), key
        assert rows["pick_equity"].iloc[-1] == pytest.approx(entry["pooled"]["roi"])
        per_fold = [
            f["sizes"][[s["size"] for s in f["sizes"]].index(entry["size"])] for f in doc["folds"]
        ]
        assert entry["pooled"]["roi"] == pytest.approx(
            sum(r["pick"]["test"]["roi"] for r in per_fold)
        )
    best = max(doc["by_size"], key=lambda s: (s["pooled"]["guarded_ratio"], -s["size"]))
    assert doc["recommended_size"] == best["size"] and doc["verdict"] == best["verdict"]
    assert doc["pooled"]["size"] == best["size"]


def test_spearman_is_scipys_with_ties() -> None:
    from scipy.stats import spearmanr

    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(2000):
        n = int(rng.integers(3, 20))
        x = rng.integers(0, 5, n).astype(float)  # many ties
        y = rng.normal(size=n)
        if rng.random() < 0.5:
            y = np.round(y)
        got = spearman(x, y)
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            assert got is None
            continue
        assert got == pytest.approx(float(spearmanr(x, y).statistic), abs=1e-12)
        checked += 1
    assert checked > 1500


def test_spearman_and_verdict_words() -> None:
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 1, 1], [1, 2, 3]) is None and spearman([1, 2], [2, 1]) is None
    good = verdict(96.0, 0.6, 5000.0, 0.4, bar=90, near_zero=0.2)
    assert good["skill"] and good["text"].startswith("evidence of skill")
    under = verdict(55.0, 0.6, 100.0, 0.1, bar=90, near_zero=0.2)
    assert not under["skill"] and under["text"].startswith("no evidence of skill")
    chance = verdict(97.0, 0.05, 100.0, None, bar=90, near_zero=0.2)
    assert not chance["skill"] and "no better than chance" in chance["text"]
    assert "lost ₹1,200" in verdict(20.0, None, -1200.0, None, bar=90, near_zero=0.2)["text"]


def test_outputs_are_strict_json_and_the_same_bytes_again(
    sample_parquet: Path, rolling: dict[str, Any], tmp_path: Path
) -> None:
    text = (rolling["dir"] / "validation.json").read_text()

    def refuse(token: str) -> float:
        raise AssertionError(f"non-standard JSON token {token}")

    doc = json.loads(text, parse_constant=refuse)
    for key in ("folds", "pooled", "verdict", "by_size", "recommended_size", "settings"):
        assert key in doc
    for key in ("roi", "max_drawdown", "ratio", "win_rate", "mean_pnl", "percentile"):
        assert key in doc["pooled"]
    again = tmp_path / "again"
    validate(sample_parquet, config(), again / "validation.json", again / "oos.parquet")
    assert (again / "validation.json").read_bytes() == (
        rolling["dir"] / "validation.json"
    ).read_bytes()
    assert (again / "oos.parquet").read_bytes() == (rolling["dir"] / "oos.parquet").read_bytes()


def test_cli_validates_without_snakemake(
    sample_parquet: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import yaml

    from stratopt.cli import main

    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml.safe_dump(config()))
    out = tmp_path / "out"
    args = ["validate", str(sample_parquet), str(out), "--config", str(cfg)]
    assert main([*args, "--scheme", "expanding", "--sizes", "6", "--random", "50"]) == 0
    doc = json.loads((out / "validation.json").read_text())
    assert doc["settings"]["scheme"] == "expanding" and doc["settings"]["sizes"] == [6]
    assert [f["train"]["start_index"] for f in doc["folds"]] == [0, 0, 0]
    assert doc["pooled"]["random"]["count"] == 50  # random portfolio j is pooled across folds
    assert f"recommended size 6: {doc['verdict']}" in capsys.readouterr().out
    assert main([*args, "--train", "80"]) == 2  # a clear error, no traceback
    assert "validation needs train + test = 80 + 14 sessions" in capsys.readouterr().err


def test_date_range_is_applied_as_prepare_does(
    sample: Matrix, sample_parquet: Path, tmp_path: Path
) -> None:
    last = str(sample.dates[69])  # inclusive: sessions 0..69 stay
    cfg = {**config(scheme="static", train=40, test=10, sizes=[5], random_portfolios=50)}
    cfg["date_range"] = {"start": None, "end": last}
    doc = validate(sample_parquet, cfg, tmp_path / "v.json", tmp_path / "v.parquet")
    assert doc["sessions"]["count"] == 70 and doc["sessions"]["last"] == last
    (fold,) = doc["folds"]
    assert (fold["train"]["start_index"], fold["test"]["start_index"]) == (20, 60)
    assert fold["test"]["last"] == last
    cfg["date_range"] = {"start": "2030-01-01"}
    with pytest.raises(InputError, match="selects no session"):
        validate(sample_parquet, cfg, tmp_path / "w.json", tmp_path / "w.parquet")
    assert not (tmp_path / "w.json").exists()  # nothing half-written


def test_naive_picks_from_one_ranking_are_the_per_size_picks() -> None:
    """A fold ranks its columns once; each size's naive pick is the ranking's first n,
    the same as sorting again for that size (ties included: columns 0-3 equal)."""
    from stratopt.engine.objectives import ratio
    from stratopt.validation.compare import top_of, training_ratio_order, training_roi_order

    rng = np.random.default_rng(3)
    train = rng.normal(size=(12, 40))
    train[:, 1:4] = train[:, [0]]
    roi_order, ratio_order = training_roi_order(train), training_ratio_order(train)
    for n in (1, 3, 5, 17, 40):
        assert np.array_equal(
            top_of(roi_order, n), np.sort(np.argsort(-train.sum(axis=0), kind="stable")[:n])
        )
        assert np.array_equal(
            top_of(ratio_order, n), np.sort(np.argsort(-ratio(train), kind="stable")[:n])
        )


def test_random_portfolios_are_scored_on_the_serial_kernel(sample: Matrix) -> None:
    """Scored in batches below the kernels' parallel threshold: the same ROIs as one call."""
    from stratopt.engine import kernels
    from stratopt.engine.evaluator import Evaluator
    from stratopt.validation.run import SERIAL_ROWS, roi_of

    assert SERIAL_ROWS < kernels.PARALLEL_ROWS
    ev = Evaluator(np.ascontiguousarray(sample.values[:20]), metric="roi")
    sets = random_subsets(np.random.default_rng(5), sample.n_strategies, 8, 2 * SERIAL_ROWS + 7)
    assert np.array_equal(roi_of(ev, sets), ev.statistics(sets)["roi"])
