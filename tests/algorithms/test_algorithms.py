"""The eight search algorithms: real data, legacy evaluation counts, determinism, plugins."""

from __future__ import annotations

import dataclasses
import math
import textwrap
from pathlib import Path

import numpy as np
import pytest

from search_support import prepared_sample
from stratopt.algorithms import available_algorithms, load_algorithm
from stratopt.algorithms.base import Algorithm, SearchParams
from stratopt.algorithms.moves import (
    dedupe_rows,
    draw_outside,
    move_towards,
    mutate_rows,
    pick_from_union,
    random_subsets,
)
from stratopt.engine.evaluator import Evaluator
from stratopt.errors import ConfigError
from stratopt.registry import load

EIGHT = ["aco", "bo", "de", "ga", "hc", "pso", "rs", "sa"]
SMALL = {"generations": 12, "population": 10, "mutation_rate": 0.1}


@pytest.fixture(scope="module")
def evaluator(real_sample_csv: Path) -> Evaluator:
    return Evaluator(prepared_sample(real_sample_csv).values, metric="ratio")


def legacy_count(name: str, g: int, p: int) -> int:
    """The legacy loop's evaluations (../shared/docs/legacy-semantics.md)."""
    return {
        "ga": g * p,
        "pso": g * p,
        "sa": 1 + 1000,
        "hc": 1 + 200,
        "de": p + g * p,
        "aco": g,
        "bo": g,
        "rs": g * p,
    }[name]


def test_all_eight_are_registered_plugins() -> None:
    assert set(EIGHT) <= set(available_algorithms())
    for name in EIGHT:
        alg = load_algorithm(name)
        assert isinstance(alg, Algorithm)
        assert alg.name == name
        assert {"default", "legacy"} <= set(alg.presets)
        assert load("algorithms", name.upper()) is type(alg)


@pytest.mark.parametrize("preset", ["legacy", "default"])
@pytest.mark.parametrize("name", EIGHT)
def test_every_algorithm_on_the_real_sample(evaluator: Evaluator, name: str, preset: str) -> None:
    n, budget = 20, 150
    before = evaluator.evaluations
    res = load_algorithm(name).run(
        evaluator, n, budget=budget, rng=np.random.default_rng(7), params=SMALL, preset=preset
    )
    assert evaluator.evaluations - before == res.evaluations == budget
    assert res.best.shape == (n,)
    assert np.all(np.diff(res.best) > 0), "sorted, distinct"
    assert res.best[0] >= 0 and res.best[-1] < evaluator.n_strategies
    # the reported fitness is the fitness of the reported set
    assert math.isclose(res.fitness, evaluator.evaluate_one(res.best), rel_tol=1e-9, abs_tol=1e-9)
    assert res.trace and res.trace[-1] == res.fitness
    assert all(b >= a for a, b in zip(res.trace, res.trace[1:], strict=False))
    assert res.seconds > 0


@pytest.mark.parametrize("name", EIGHT)
def test_legacy_preset_spends_the_legacy_evaluation_count(evaluator: Evaluator, name: str) -> None:
    g, p = 11, 10
    params = {"generations": g, "population": p, "mutation_rate": 0.2}
    alg = load_algorithm(name)
    for preset in ("legacy", "default"):  # the default presets get the same budget
        before = evaluator.evaluations
        res = alg.run(
            evaluator, 15, budget=None, rng=np.random.default_rng(3), params=params, preset=preset
        )
        assert res.evaluations == evaluator.evaluations - before == legacy_count(name, g, p), preset


def test_legacy_iteration_structure(evaluator: Evaluator) -> None:
    """One trace entry per legacy iteration: generations, moves or samples."""
    g, p = 10, 12
    params = {"generations": g, "population": p}
    rng = np.random.default_rng
    run = lambda name: load_algorithm(name).run(  # noqa: E731
        evaluator, 10, budget=None, rng=rng(1), params=params, preset="legacy"
    )
    assert len(run("ga").trace) == g
    assert len(run("pso").trace) == g
    assert len(run("de").trace) == 1 + g
    assert len(run("sa").trace) == 1 + 1000
    assert len(run("hc").trace) == 1 + 200
    assert len(run("aco").trace) == g
    assert len(run("bo").trace) == g


@pytest.mark.parametrize("name", EIGHT)
def test_same_seed_same_result_other_seed_other_path(evaluator: Evaluator, name: str) -> None:
    alg = load_algorithm(name)
    a, b, c = (
        alg.run(
            evaluator, 25, budget=120, rng=np.random.default_rng(s), params=SMALL, preset="default"
        )
        for s in (5, 5, 6)
    )
    assert np.array_equal(a.best, b.best) and a.fitness == b.fitness and a.trace == b.trace
    assert not (np.array_equal(a.best, c.best) and a.trace == c.trace)


@pytest.mark.parametrize("name", ["pso", "de", "aco", "bo", "sa"])
def test_default_preset_beats_the_legacy_loop_at_equal_work(
    evaluator: Evaluator, name: str
) -> None:
    """The legacy PSO/DE/ACO/BO hardly search and its SA is greedy; the defaults search.

    Production G and P on the real sample, median of 3 seeds: the default
    must not lose. (The benchmark does the same on the production shape.)
    """
    alg = load_algorithm(name)
    params = {"generations": 100, "population": 30, "mutation_rate": 0.1}
    best = {
        preset: np.median(
            [
                alg.run(
                    evaluator,
                    40,
                    budget=None,
                    rng=np.random.default_rng(s),
                    params=params,
                    preset=preset,
                ).fitness
                for s in (11, 12, 13)
            ]
        )
        for preset in ("legacy", "default")
    }
    assert best["default"] >= best["legacy"], best


def test_mutation_rate_is_clamped_like_the_legacy() -> None:
    assert SearchParams.from_mapping({"mutation_rate": 0.9}).mutation_rate == 0.5
    assert SearchParams.from_mapping({"mutation_rate": 0.0}).mutation_rate == 0.01


def test_bad_arguments_are_refused(evaluator: Evaluator) -> None:
    ga = load_algorithm("ga")
    with pytest.raises(ValueError, match="preset"):
        ga.run(evaluator, 5, budget=10, rng=np.random.default_rng(0), params=SMALL, preset="fast")
    with pytest.raises(ValueError, match="size"):
        ga.run(
            evaluator, 501, budget=10, rng=np.random.default_rng(0), params=SMALL, preset="legacy"
        )
    with pytest.raises(ValueError, match="budget"):
        ga.run(evaluator, 5, budget=0, rng=np.random.default_rng(0), params=SMALL, preset="legacy")


def test_a_portfolio_of_every_strategy_but_one() -> None:
    """Near-full sizes take the explicit-complement path of the moves."""
    values = np.random.default_rng(0).normal(size=(30, 12))
    ev = Evaluator(values, metric="roi")
    for name in EIGHT:
        res = load_algorithm(name).run(
            ev, 11, budget=40, rng=np.random.default_rng(1), params=SMALL, preset="default"
        )
        assert len(set(res.best.tolist())) == 11


# ------------------------------------------------------------------ moves


def test_moves_keep_portfolios_distinct() -> None:
    rng = np.random.default_rng(0)
    n_total, n = 60, 25
    sets = random_subsets(rng, n_total, n, 200)
    assert all(len(set(r)) == n for r in sets.tolist())
    out = draw_outside(rng, n_total, sets[0], 30)
    assert len(set(out.tolist())) == 30 and not set(out.tolist()) & set(sets[0].tolist())
    mutated = mutate_rows(rng, n_total, sets, 0.3)
    assert all(len(set(r)) == n for r in mutated.tolist())
    assert (mutated != sets).mean() == pytest.approx(0.3, abs=0.03)
    child = pick_from_union(rng, sets[:100], sets[100:], n)
    for c, a, b in zip(child.tolist(), sets[:100].tolist(), sets[100:].tolist(), strict=True):
        assert len(set(c)) == n and set(c) <= set(a) | set(b)
    dup = np.where(rng.random(sets.shape) < 0.5, sets, sets[::-1])
    fixed = dedupe_rows(rng, n_total, dup)
    assert all(len(set(r)) == n for r in fixed.tolist())
    moved = move_towards(rng, sets[0], sets[1], 1.0)
    assert set(moved.tolist()) == set(sets[1].tolist())
    assert np.array_equal(move_towards(rng, sets[0], sets[1], 0.0), sets[0])


def test_draw_outside_refuses_the_impossible() -> None:
    with pytest.raises(ValueError):
        draw_outside(np.random.default_rng(0), 10, np.arange(8), 3)


# ------------------------------------------------------------------ third-party plugin

PLUGIN = '''
"""A third-party search: the n strategies from `first` on, with a settings class of its own."""
from dataclasses import dataclass

import numpy as np
from stratopt.algorithms.base import BaseAlgorithm
from stratopt.algorithms.settings import AlgorithmSettings, setting


@dataclass(frozen=True)
class FirstNSettings(AlgorithmSettings):
    """Where the portfolio starts."""

    first: int = setting(0, "the portfolio's first strategy", minimum=0)


class FirstN(BaseAlgorithm):
    name = "firstn"
    settings_class = FirstNSettings

    def natural_budget(self, params, n):
        return 1

    def _default(self, t, ev, n, rng, p):
        first = p.settings.first
        t.evaluate(np.arange(first, first + n, dtype=np.int64)[None, :])
        t.record()

    _legacy = _default
'''


def install_plugin(where: Path) -> None:
    """A tiny installed distribution: a module plus a dist-info declaring the entry point."""
    (where / "ninth_algorithm.py").write_text(textwrap.dedent(PLUGIN))
    info = where / "ninth_algorithm-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ninth-algorithm\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[stratopt.algorithms]\nfirstn = ninth_algorithm:FirstN\n"
    )


def test_a_third_party_plugin_adds_a_ninth_algorithm(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, real_sample_csv: Path
) -> None:
    from search_support import write_prepared
    from stratopt.search.optimize import optimize
    from stratopt.search.settings import OptimizeSettings
    from stratopt.selection.select import select

    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    assert "firstn" not in available_algorithms()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("PYTHONPATH", str(site))  # for the worker processes
    assert "firstn" in available_algorithms()
    assert len(available_algorithms()) >= 9

    prepared = write_prepared(real_sample_csv, tmp_path / "prepared.parquet")
    settings = OptimizeSettings(min_size=3, max_size=4, generations=10, population=10)
    paths = optimize(prepared, ["firstn", "rs"], settings, tmp_path / "runs", workers=2)
    summary = select(
        prepared,
        [paths["firstn"], paths["rs"]],
        tmp_path / "portfolios.parquet",
        tmp_path / "summary.json",
        tmp_path / "portfolios",
        pictures=False,
    )
    assert summary["algorithms"] == ["firstn", "rs"]
    sizes = {s["size"]: s for s in summary["sizes"]}
    assert sizes[3]["fitness_by_algorithm"]["firstn"] is not None
    import json

    first = json.loads(paths["firstn"].read_text())
    assert [r["best"] for r in first["sizes"]] == [[0, 1, 2], [0, 1, 2, 3]]

    # its settings come from optimize.params.firstn, checked by its own class at load time
    moved = dataclasses.replace(settings, params={"firstn": {"first": 7}})
    paths = optimize(prepared, ["firstn"], moved, tmp_path / "moved", workers=1)
    first = json.loads(paths["firstn"].read_text())
    assert [r["best"] for r in first["sizes"]] == [[7, 8, 9], [7, 8, 9, 10]]
    assert first["settings"]["params"] == {"first": 7}
    for bad, message in (({"frist": 1}, "'frist' was unexpected"), ({"first": -1}, "minimum")):
        wrong = dataclasses.replace(settings, params={"firstn": bad})
        with pytest.raises(ConfigError, match=rf"optimize\.params\.firstn.*{message}"):
            optimize(prepared, ["firstn"], wrong, tmp_path / "wrong", workers=1)
    assert not (tmp_path / "wrong").exists()
