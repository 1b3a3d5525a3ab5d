"""stratopt.contracts: the checker, its errors, and the writers and readers that use it.

The real run's outputs against every contract: tests/workflow/test_outputs.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from stratopt import contracts as C
from stratopt.contracts import ContractError, check_spec
from stratopt.data.matrix import check_parquet
from stratopt.errors import InputError


def test_the_checker_names_every_misfit_by_its_key_path() -> None:
    spec = {"a": int, "b": [float], "c": (str, None), "d?": bool, "e": {"*": {"x": int}}}
    good = {"a": 1, "b": [1, 2.5], "c": None, "e": {"one": {"x": 1, "more": "ok"}}, "z": 0}
    assert check_spec(good, spec) == []
    bad = {"a": True, "b": [1, "2"], "c": 3, "d": 1, "e": {"one": {"x": 1.5}}}
    assert check_spec(bad, spec) == [
        "a: expected integer, got boolean",  # a boolean is no number
        "b[1]: expected number, got string",
        "c: expected string or null, got integer",
        "d: expected boolean, got integer",
        "e.one.x: expected integer, got number",
    ]
    assert check_spec({}, {"a": int, "b?": int}) == ["a: missing"]


def test_numpy_values_are_checked_as_the_json_they_become() -> None:
    doc = {"n": np.int64(3), "x": np.float64(0.5), "ok": np.bool_(True), "v": np.arange(3)}
    assert check_spec(doc, {"n": int, "x": float, "ok": bool, "v": [int]}) == []
    assert check_spec({"n": np.float32(1.5)}, {"n": int}) == ["n: expected integer, got number"]


def test_a_writer_refuses_a_document_that_breaks_its_contract(tmp_path: Path) -> None:
    from stratopt.validation.output import write_validation_json

    out = tmp_path / "validation.json"
    with pytest.raises(ContractError, match="recommended_size: missing") as err:
        write_validation_json(out, {"schema": "stratopt-validation/1"})
    assert isinstance(err.value, InputError) and err.value.path == str(out)
    assert not out.exists()


def test_a_reader_names_the_file_and_the_key(tmp_path: Path) -> None:
    from stratopt.selection.select import load_run

    size = {"size": 5, "best": [0], "fitness": None, "evaluations": 1, "seconds": 0.1}
    doc = {
        "algorithm": "ga",
        "preset": "default",
        "settings": {},
        "input": {"path": "p", "sha256": "0"},
        "n_strategies": 1,
        "n_days": 2,
        "skipped_sizes": [],
        "sizes": [{**size, "trace": [], "convergence": [[1, 0.5]]}],
    }
    path = tmp_path / "ga.json"
    path.write_text(json.dumps(doc))
    assert load_run(path) == doc
    doc["sizes"].append({**size, "size": "six", "trace": []})
    path.write_text(json.dumps(doc))
    with pytest.raises(ContractError) as err:
        load_run(path)
    message = str(err.value)
    assert str(path) in message and "sizes[1].size: expected integer, got string" in message
    assert "sizes[1].convergence: missing" in message
    assert err.value.column == "sizes[1].size"  # the first misfit, as the error's column
    assert C.RUN.read_json_at(tmp_path / "absent.json") is None  # absent: not run, no error
    path.write_text('{"a": NaN}')
    with pytest.raises(ContractError, match="not valid JSON: NaN"):
        C.RUN.read_json_at(path)


def test_parquet_columns_and_metadata_are_checked(tmp_path: Path) -> None:
    table = pa.table(
        {
            "strategy": ["a"],
            "original_roi": [1.0],
            "inverted_roi": pa.array([2], type=pa.int64()),
        }
    )
    path = tmp_path / "inversion.parquet"
    pq.write_table(table, path)
    with pytest.raises(ContractError, match="inverted_roi: expected double, got int64"):
        check_parquet(C.INVERSION, path)
    pq.write_table(table.drop_columns(["inverted_roi"]), path)
    with pytest.raises(ContractError, match="inverted_roi: missing"):
        check_parquet(C.INVERSION, path)
    path.write_text("not parquet")
    with pytest.raises(ContractError, match="not a readable Parquet file"):
        check_parquet(C.INVERSION, path)
    listed = pa.table({"names": pa.array([["a"]], type=pa.list_(pa.string()))})
    assert str(listed.schema.field("names").type) == "list<item: string>"  # in memory ...
    pq.write_table(listed, path)
    assert str(pq.read_schema(path).field("names").type) == "list<element: string>"  # ... on disk
    both = C.Output(
        "x.parquet", "test", "a list column", columns={"names": "list<element: string>"}
    )
    both.check_schema(listed.schema)  # either name of the list's field fits
    check_parquet(both, path)
    with pytest.raises(ContractError, match="schema metadata 'stratopt': missing"):
        C.PORTFOLIOS.check_schema(pa.schema([]))


def test_the_contracts_agree_with_the_engine_and_the_layouts() -> None:
    from stratopt.correlation.shard_io import META_KEY
    from stratopt.engine.portfolio_metrics import PERFORMANCE_KEYS
    from stratopt.engine.reference import METRIC_COLUMNS
    from stratopt.selection.select import per_size_file

    assert list(C.PORTFOLIO_METRICS) == list(PERFORMANCE_KEYS)
    assert list(C.STRATEGY_METRICS) == list(METRIC_COLUMNS)
    assert C.CORRELATION_SHARD.metadata == META_KEY
    assert per_size_file(C.fill(C.LEGACY_BEST, size=35)) == (35, False)
    assert per_size_file(C.fill(C.LEGACY_FIGURES, figure="drawdown", size=7)) == (7, True)
    names = [o.name for o in C.ALL]
    assert len(names) == len(set(names))


def test_paths_fill_only_the_wildcards_given() -> None:
    assert C.RUN.path("results/x", algorithm="ga") == Path("results/x/runs/ga.json")
    assert C.fill(C.LOG.name, job="optimize_{algorithm}") == "logs/optimize_{algorithm}.log"
    assert C.CHECKPOINT.file_name(size=5) == "size_5.json"
    assert C.PROFILE_SVG.folder == "profiles" and C.SUMMARY.folder == ""


def test_the_report_names_a_broken_file_and_guesses_nothing(tmp_path: Path) -> None:
    from stratopt.report.collect import collect
    from stratopt.report.render import render_report

    # summary.json with another shape: the kind of drift the report used to guess around
    (tmp_path / "summary.json").write_text(json.dumps({"sizes": {"5": {"fitness": 1.0}}}))
    data = collect(tmp_path)
    assert data.broken == ["summary.json"]
    assert data.choice is None and data.search is None
    assert len(data.notes) == 1 and "summary.json" in data.notes[0]
    assert "breaks its contract: periods_per_year: missing" in data.notes[0]
    html = render_report(data, tmp_path / "report.html")
    assert "Left out, because they break their contract" in html and "summary.json" in html
    # an output that is simply absent is "not run", never a note
    empty = collect(tmp_path / "nothing")
    assert empty.broken == [] and empty.notes == []


DOCUMENTS = [
    b'{"size": 35, "fitness": 12.5, "best": [3, 1, 2], "names": ["a\\u00e9", "b"]}',
    b"[1e-320, 1.7976931348623157e308, -0.0, 0.1, 1E5, 9223372036854775807, -0]",
    b'{"a": 1, "a": 2}',
    b'"\\ud800"',  # a lone surrogate: orjson refuses it, the standard library reads it
    b"1e400",  # beyond a double: orjson refuses it, the standard library says inf
    b"NaN",
    b'{"x": Infinity}',
    b'{"fitness":NaN,"was":1}',
    b"\xef\xbb\xbf{}",
    b"[1,2,]",
    b'"a\x01b"',
    b"\xff\xfe",
    b"",
]


@pytest.mark.parametrize("data", DOCUMENTS)
def test_orjson_reads_what_the_standard_library_reads_and_fails_as_it_does(
    data: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """loads_strict with orjson (installed with stratopt) against the standard library
    alone: the same values of the same types, or the same error message."""
    from stratopt.runtime import atomic

    assert atomic.orjson is not None

    def outcome() -> tuple[str, str]:
        try:
            return "value", repr(atomic.loads_strict(data))
        except ValueError as exc:
            return "error", str(exc)

    fast = outcome()
    monkeypatch.setattr(atomic, "orjson", None)
    assert outcome() == fast


def test_a_nan_token_in_a_run_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "ga.json"
    path.write_bytes(b'{"algorithm":"ga","sizes":[{"fitness":NaN}]}')
    with pytest.raises(ContractError, match="not valid JSON: NaN is not valid JSON"):
        C.RUN.read_json_at(path)
