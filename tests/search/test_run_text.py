"""runs/{algorithm}.json spliced from the sizes' encoded records == the document encoded whole."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search_support import write_prepared
from stratopt.data.matrix import read_matrix
from stratopt.runtime.atomic import json_text
from stratopt.search.checkpoints import checkpoint_path, file_digest
from stratopt.search.optimize import MatrixShape, optimize, run_document, run_text
from stratopt.search.run_text import document_text, record_text
from stratopt.search.settings import OptimizeSettings

SHAPE = MatrixShape(["a", "b ₹", 'c "q"', "d"], 4, 10)


def records() -> dict[int, dict]:
    return {
        2: {"size": 2, "best": [0, 3], "fitness": 1.5e-17, "evaluations": 3, "seconds": 0.01,
            "trace": [None, 0.5, 1.5e-17], "convergence": [[2, 0.5], [3, 1.5e-17]]},
        3: {"size": 3, "best": [0, 1, 2], "fitness": None, "evaluations": 1, "seconds": 1e-05,
            "trace": [None], "convergence": []},
    }  # fmt: skip


@pytest.mark.parametrize("zone_mode", [False, True])
def test_spliced_text_is_the_whole_documents_text(zone_mode: bool) -> None:
    settings = OptimizeSettings(min_size=2, max_size=3, budget=3)
    recs = records()
    whole = run_document("ga", settings, SHAPE, Path("p.parquet"), "d" * 64, recs, [4])
    want = json_text(whole | {"zone_mode": zone_mode}, compact=True)
    done = {size: (record_text(r), r["best"]) for size, r in recs.items()}
    got = run_text("ga", settings, SHAPE, Path("p.parquet"), "d" * 64, done, [4], zone_mode)
    assert got == want
    assert json.loads(got)["sizes"][1]["names"] == ["a", "b ₹", 'c "q"']


def test_a_head_that_holds_the_placeholder_twice_is_not_spliced() -> None:
    head = {"settings": {"sizes": []}, "sizes": []}
    assert document_text(head, ["{}"]) is None
    assert document_text({"sizes": []}, ['{"a":1}', '{"b":2}']) == '{"sizes":[{"a":1},{"b":2}]}'


def test_optimize_writes_the_documents_its_checkpoints_hold(
    real_sample_csv: Path, tmp_path: Path
) -> None:
    """The stage's file is the whole document encoded at once, sizes searched or resumed."""
    prepared = write_prepared(real_sample_csv, tmp_path / "prepared.parquet")
    settings = OptimizeSettings(min_size=3, max_size=5, budget=40, seed=9)
    runs = tmp_path / "runs"
    optimize(prepared, ["sa", "ga"], settings, runs)
    first = {a: (runs / f"{a}.json").read_text() for a in ("sa", "ga")}
    for path in first:
        (runs / f"{path}.json").unlink()
    optimize(prepared, ["sa", "ga"], settings, runs)  # every size resumed from its checkpoint
    shape = MatrixShape.of(read_matrix(prepared))
    for algorithm, text in first.items():
        assert (runs / f"{algorithm}.json").read_text() == text
        records = {}
        for size in (3, 4, 5):
            doc = json.loads(checkpoint_path(runs, algorithm, size).read_text())
            records[size] = doc["result"]
        whole = run_document(
            algorithm, settings, shape, prepared, file_digest(prepared), records, []
        )
        assert json_text(whole | {"zone_mode": False}, compact=True) + "\n" == text
