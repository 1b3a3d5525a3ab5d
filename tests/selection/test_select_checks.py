"""select's input checks and non-finite fitness (issue 17, cases 1 and 9), end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from stratopt.cli import main as cli_main
from stratopt.data.ingest import read_source
from stratopt.data.matrix import Matrix, write_matrix
from stratopt.engine.evaluator import Evaluator
from stratopt.errors import InputError
from stratopt.runtime.atomic import loads_strict
from stratopt.search.optimize import optimize
from stratopt.search.settings import OptimizeSettings
from stratopt.selection.select import best_per_size, select

SETTINGS = OptimizeSettings(min_size=3, max_size=5, generations=10, population=10, seed=3)
ALGORITHMS = ["ga", "sa", "rs"]


def _part(sample: Path, first: int, count: int) -> Matrix:
    m, _ = read_source(sample)
    cols = slice(first, first + count)
    return Matrix(
        dates=m.dates,
        days=m.days,
        names=m.names[cols],
        values=np.ascontiguousarray(m.values[:, cols]),
    )


@pytest.fixture(scope="module")
def overflowing(tmp_path_factory: pytest.TempPathFactory, real_sample_csv: Path) -> Path:
    """12 real strategies, one holding two cells of 1e308 (finite; sums overflow)."""
    m = _part(real_sample_csv, 0, 12)
    values = m.values.copy()
    values[[3, 40], 5] = 1e308
    path = tmp_path_factory.mktemp("nan") / "prepared.parquet"
    write_matrix(Matrix(m.dates, m.days, m.names, values), path)
    return path


def test_evaluator_scores_an_overflowing_portfolio_minus_infinity(overflowing: Path) -> None:
    from stratopt.data.matrix import read_matrix

    ev = Evaluator(read_matrix(overflowing).values)
    fit = ev.evaluate(np.array([[5, 1, 2], [0, 1, 2]]))
    assert fit[0] == -np.inf and np.isfinite(fit[1])
    sw = ev.swapper([0, 1, 2])
    assert sw.propose(0, 5) == -np.inf


def test_a_non_finite_fitness_never_wins_and_outputs_stay_strict_json(
    overflowing: Path, tmp_path: Path
) -> None:
    runs = optimize(overflowing, ALGORITHMS, SETTINGS, tmp_path / "runs")
    docs = {a: loads_strict(p.read_text()) for a, p in runs.items()}  # no NaN tokens
    for doc in docs.values():
        for rec in doc["sizes"]:
            # null where a search met nothing finite (SA starting from the overflowing
            # strategy: its running sums stay non-finite), never NaN
            if rec["fitness"] is not None:
                assert np.isfinite(rec["fitness"]) and 5 not in rec["best"]
    assert any(r["fitness"] is None for d in docs.values() for r in d["sizes"])
    summary = select(
        overflowing,
        list(runs.values()),
        tmp_path / "p.parquet",
        tmp_path / "summary.json",
        tmp_path / "legacy",
        pictures=False,
    )
    loads_strict((tmp_path / "summary.json").read_text())
    for entry in summary["sizes"]:
        fits = [d["sizes"][entry["size"] - 3]["fitness"] for d in docs.values()]
        assert entry["fitness"] == max(f for f in fits if f is not None)
        assert 5 not in entry["indices"]


def test_best_per_size_skips_null_and_nan_fitness() -> None:
    runs = [
        {
            "algorithm": "ga",
            "sizes": [{"size": 4, "fitness": float("nan"), "best": [0], "evaluations": 1}],
        },
        {"algorithm": "sa", "sizes": [{"size": 4, "fitness": 6.47, "best": [1], "evaluations": 1}]},
        {"algorithm": "rs", "sizes": [{"size": 4, "fitness": None, "best": [2], "evaluations": 1}]},
    ]
    best = best_per_size(runs)[4]
    assert (best["algorithm"], best["fitness"]) == ("sa", 6.47)
    assert best["by_algorithm"] == {"ga": None, "sa": 6.47, "rs": None}


def test_select_refuses_sizes_without_a_finite_fitness(tmp_path: Path, overflowing: Path) -> None:
    runs = optimize(overflowing, ["rs"], SETTINGS, tmp_path / "runs")
    doc = json.loads(runs["rs"].read_text())
    doc["sizes"][1]["fitness"] = None
    runs["rs"].write_text(json.dumps(doc))
    with pytest.raises(InputError, match=r"size\(s\) 4: no algorithm found .* finite"):
        select(overflowing, [runs["rs"]], tmp_path / "p", tmp_path / "s", tmp_path / "d")
    assert not (tmp_path / "s").exists() and not (tmp_path / "d").exists()


def test_select_refuses_runs_written_with_nan_tokens(tmp_path: Path, overflowing: Path) -> None:
    runs = optimize(overflowing, ["rs"], SETTINGS, tmp_path / "runs")
    # a NaN token where the first fitness was (the runs are compact JSON: no space)
    text = runs["rs"].read_text()
    assert text.count('"fitness":') == 3
    runs["rs"].write_text(text.replace('"fitness":', '"fitness":NaN,"was":', 1))
    with pytest.raises(InputError, match="not valid JSON: NaN"):
        select(overflowing, [runs["rs"]], tmp_path / "p", tmp_path / "s", tmp_path / "d")


@pytest.fixture(scope="module")
def two_files(tmp_path_factory: pytest.TempPathFactory, real_sample_csv: Path) -> tuple[Path, Path]:
    """Two prepared files with the same N and different strategies."""
    root = tmp_path_factory.mktemp("two")
    a, b = root / "a.parquet", root / "b.parquet"
    write_matrix(_part(real_sample_csv, 0, 10), a)
    write_matrix(_part(real_sample_csv, 10, 10), b)
    return a, b


def test_select_refuses_runs_of_another_file_with_the_same_n(
    two_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    a, b = two_files
    runs = optimize(a, ["rs"], SETTINGS, tmp_path / "runs")
    code = cli_main(["select", str(b), str(runs["rs"]), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2 and "searched another file" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_select_refuses_names_that_differ_at_the_same_indices(
    two_files: tuple[Path, Path], tmp_path: Path
) -> None:
    a, _ = two_files
    runs = optimize(a, ["rs"], SETTINGS, tmp_path / "runs")
    doc = json.loads(runs["rs"].read_text())
    doc["sizes"][0]["names"][0] = "not this one"
    runs["rs"].write_text(json.dumps(doc))
    with pytest.raises(InputError, match="names differ"):
        select(a, [runs["rs"]], tmp_path / "p", tmp_path / "s", tmp_path / "d")


def test_reusing_out_leaves_no_stale_size_files(
    two_files: tuple[Path, Path], tmp_path: Path
) -> None:
    a, _ = two_files
    wide = optimize(a, ["rs"], SETTINGS, tmp_path / "wide")
    narrow = optimize(a, ["rs"], OptimizeSettings(min_size=3, max_size=4, seed=3), tmp_path / "n")
    out = tmp_path / "out"
    assert cli_main(["select", str(a), str(wide["rs"]), "--out", str(out)]) == 0
    folder = out / "portfolios"
    assert (folder / "best_portfolio_size5.txt").exists()
    assert (folder / "equity_curve_size5.png").exists()
    (folder / "notes.txt").write_text("the user's own file")
    assert cli_main(["select", str(a), str(narrow["rs"]), "--out", str(out), "--no-pictures"]) == 0
    assert sorted(p.name for p in folder.iterdir()) == [
        "best_portfolio_size3.txt",
        "best_portfolio_size4.txt",
        "notes.txt",
        "optimization_summary.txt",
    ]
