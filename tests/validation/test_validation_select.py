"""The select stage's flags and its best-overall rule, on the real sample.

A constructed zero-drawdown pick (real columns made one-signed) gets the
legacy `ratio`'s ROI x 100 fitness: the largest of the run by far. select
must flag it (summary.json, portfolios.parquet), and must not make it the
best overall: without validation the guarded ratio chooses, with
validation.json its out-of-sample recommendation does.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from search_support import prepared_sample
from stratopt.data.matrix import Matrix, write_matrix
from stratopt.engine.evaluator import Evaluator
from stratopt.search.checkpoints import file_digest
from stratopt.search.optimize import run_document
from stratopt.search.settings import OptimizeSettings
from stratopt.selection.select import select
from stratopt.validation.stage import validate


@pytest.fixture(scope="module")
def constructed(real_sample_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """prepared.parquet whose first 6 columns never lose, and two algorithms' runs."""
    base = prepared_sample(real_sample_csv)
    values = base.values.copy()
    values[:, :6] = np.abs(values[:, :6])  # real magnitudes, no losing session: no drawdown
    matrix = Matrix(base.dates, base.days, base.names, values, base.labels)
    root = tmp_path_factory.mktemp("constructed")
    write_matrix(matrix, root / "prepared.parquet")
    ratio = Evaluator(values, metric="ratio")
    rng = np.random.default_rng(0)
    sets = {
        "sa": {5: [0, 1, 2, 3, 4], 6: sorted(rng.choice(np.arange(6, 500), 6, replace=False))},
        "rs": {5: sorted(rng.choice(np.arange(6, 500), 5, replace=False)), 6: [0, 1, 2, 3, 4, 5]},
    }
    # the runs as optimize writes them (stratopt.contracts.RUN): select checks that they
    # searched this very file (issue 17)
    prepared = root / "prepared.parquet"
    settings = OptimizeSettings(min_size=5, max_size=6, metric="ratio")
    runs = []
    for name, by_size in sets.items():
        records = {
            size: {
                "size": size,
                "best": [int(i) for i in best],
                "fitness": ratio.evaluate_one(best),
                "evaluations": 100,
                "seconds": 0.0,
                "trace": [],
                "convergence": [],
            }
            for size, best in by_size.items()
        }
        doc = run_document(name, settings, matrix, prepared, file_digest(prepared), records, [])
        path = root / f"{name}.json"
        path.write_text(json.dumps(doc))
        runs.append(path)
    return {"root": root, "runs": runs, "values": values}


def test_zero_drawdown_picks_are_flagged_and_never_chosen_by_fitness(
    constructed: dict, tmp_path: Path
) -> None:
    root = constructed["root"]
    summary = select(
        root / "prepared.parquet",
        constructed["runs"],
        tmp_path / "portfolios.parquet",
        tmp_path / "summary.json",
        tmp_path / "legacy",
        pictures=False,
    )
    by_size = {e["size"]: e for e in summary["sizes"]}
    for size in (5, 6):  # both winners are the never-losing columns, with ROI x 100 fitness
        entry = by_size[size]
        assert entry["indices"] == list(range(size))
        assert entry["metrics"]["max_drawdown"] == 0.0
        assert entry["fitness"] > 1e5
        assert any("max drawdown" in f for f in entry["flags"])
        assert any("100 %" in f for f in entry["flags"])
    assert summary["flagged_sizes"] == [5, 6]
    rule = summary["best_overall_rule"]
    assert rule["rule"] == "guarded ratio" and "hindsight" in rule["text"]
    guarded = {s: e["guarded_fitness"] for s, e in by_size.items()}
    assert summary["best_overall"]["size"] == max(guarded, key=lambda s: (guarded[s], -s))
    assert max(guarded.values()) < 1e4  # bounded, where the legacy ratio gave ROI x 100
    table = pq.read_table(tmp_path / "portfolios.parquet").to_pandas()
    assert table["best_overall"].sum() == 1
    assert all("max drawdown" in f and "100 %" in f for f in table["flags"])
    assert json.loads((tmp_path / "summary.json").read_text())["flagged_sizes"] == [5, 6]
    # ... and the report says so, next to the rule that chose the best overall size
    from stratopt.report.collect import collect
    from stratopt.report.render import render_report

    html = render_report(collect(tmp_path), tmp_path / "report.html")
    assert "2 of 2 sizes' winners are flagged" in html
    assert html.count("won on every training session (win rate 100 %)") >= 3  # two rows + best
    assert "the largest guarded ratio" in html
    assert "The out-of-sample validation was not run" in html


def test_validation_recommendation_chooses_the_best_overall_size(
    constructed: dict, tmp_path: Path
) -> None:
    # a real validation.json (the validate stage on the constructed file, small settings),
    # its recommendation then set to size 6 with a constructed verdict
    validation = tmp_path / "validation.json"
    config = {
        "metric": "ratio",
        "optimize": {"algorithms": ["rs"], "min_size": 5, "max_size": 6, "generations": 5},
        "validation": {"sizes": [5, 6], "random_portfolios": 100},
    }
    doc = validate(constructed["root"] / "prepared.parquet", config, validation, tmp_path / "o")
    doc.update(recommended_size=6, skill=True, verdict="evidence of skill: constructed")
    doc["pooled"] = {**next(s["pooled"] for s in doc["by_size"] if s["size"] == 6)}
    doc["pooled"]["percentile"] = 97.0
    validation.write_text(json.dumps(doc))
    summary = select(
        constructed["root"] / "prepared.parquet",
        constructed["runs"],
        tmp_path / "portfolios.parquet",
        tmp_path / "summary.json",
        tmp_path / "legacy",
        pictures=False,
        validation_path=validation,
    )
    rule = summary["best_overall_rule"]
    assert summary["best_overall"]["size"] == 6
    assert rule["rule"] == "out-of-sample" and rule["verdict"] == "evidence of skill: constructed"
    assert rule["percentile"] == 97.0
