"""Issue 17 across the stages: SA/HC at size N, ULTA name clashes, strict JSON, bit flips."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from stratopt.cli import main as cli_main
from stratopt.data.ingest import read_source
from stratopt.data.matrix import Matrix, read_matrix, write_matrix
from stratopt.db.duckdb_backend import DuckDBDatabase
from stratopt.db.load import load_matrix
from stratopt.db.prepare import PrepareOutputs, prepare
from stratopt.engine.ulta import apply_ulta
from stratopt.errors import InputError
from stratopt.runtime.atomic import finite_or_none, loads_strict, write_json
from stratopt.search.optimize import optimize
from stratopt.search.settings import OptimizeSettings


def _matrix(values: np.ndarray, names: list[str]) -> Matrix:
    t = values.shape[0]
    dates = np.datetime64("2024-01-01") + np.arange(t)
    return Matrix(dates=dates, days=[""] * t, names=names, values=values)


# ------------------------------------------------------------------ case 4


@pytest.mark.parametrize("preset", ["default", "legacy"])
def test_sa_and_hc_search_the_only_portfolio_when_the_size_is_n(
    tmp_path: Path, preset: str
) -> None:
    values = np.random.default_rng(4).normal(size=(30, 10))
    path = tmp_path / "m.parquet"
    write_matrix(_matrix(values, [f"s{i}" for i in range(10)]), path)
    settings = OptimizeSettings(min_size=9, max_size=10, preset=preset, seed=1)
    runs = optimize(path, ["sa", "hc"], settings, tmp_path / "runs")
    for doc in (json.loads(p.read_text()) for p in runs.values()):
        ten = next(r for r in doc["sizes"] if r["size"] == 10)
        assert ten["best"] == list(range(10))
        assert ten["evaluations"] == 1  # one portfolio exists: evaluated once
        assert np.isfinite(ten["fitness"])


# ------------------------------------------------------------------ case 2


def _clashing(tmp_path: Path) -> Path:
    """X loses money overall; a column already named X_inv makes money."""
    csv = tmp_path / "clash.csv"
    csv.write_text(
        "Date,Day,X,X_inv,Y\n"
        "2024-01-04,Thursday,-5,3,1\n"
        "2024-01-05,Friday,2,1,-1\n"
        "2024-01-08,Monday,-4,2,2\n",
        encoding="utf-8",
    )
    return csv


def test_ulta_refuses_to_name_two_strategies_alike(tmp_path: Path) -> None:
    matrix, _ = read_source(_clashing(tmp_path))
    with pytest.raises(InputError, match="names it 'X_inv', the name of another strategy") as info:
        apply_ulta(matrix)
    assert info.value.column == "X_inv"


def test_prepare_refuses_the_clash_and_writes_nothing(tmp_path: Path) -> None:
    matrix, _ = read_source(_clashing(tmp_path))
    out = PrepareOutputs.under(tmp_path / "out")
    db = DuckDBDatabase(tmp_path / "stratopt.duckdb")
    db.connect()
    try:
        load_matrix(db, matrix)
        with pytest.raises(InputError, match="set ulta: false"):
            prepare(db, {"ulta": True}, out)
        assert not out.prepared.exists() and not out.report.exists()
        prepare(db, {"ulta": False}, out)  # without ULTA the names stay distinct
    finally:
        db.close()
    assert read_matrix(out.prepared).names == ["X", "X_inv", "Y"]


# ------------------------------------------------------------------ strict JSON


def test_write_json_refuses_nan_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    with pytest.raises(ValueError, match="not JSON compliant"):
        write_json(path, {"fitness": float("nan")})
    with pytest.raises(ValueError):
        write_json(path, {"pf": np.float64("inf")})
    assert list(tmp_path.iterdir()) == []
    write_json(path, {"pf": finite_or_none(float("inf")), "roi": finite_or_none(np.float64(2.5))})
    assert loads_strict(path.read_text()) == {"pf": None, "roi": 2.5}
    with pytest.raises(ValueError, match="Infinity is not valid JSON"):
        loads_strict('{"a": Infinity}')


# ------------------------------------------------------------------ bit flips


@pytest.fixture(scope="module")
def prepared_file(tmp_path_factory: pytest.TempPathFactory, real_sample_csv: Path) -> Path:
    matrix, _ = read_source(real_sample_csv)
    inverted, _ = apply_ulta(matrix)
    path = tmp_path_factory.mktemp("flip") / "prepared.parquet"
    write_matrix(inverted, path)
    return path


def test_single_bit_flips_never_read_back_as_other_data(
    prepared_file: Path, tmp_path: Path
) -> None:
    """300 random single-bit flips: each is an error or reads back identical (was 280 of 300 silent)."""
    original = prepared_file.read_bytes()
    want = read_matrix(prepared_file)
    rng = random.Random(17)
    target = tmp_path / "flipped.parquet"
    errors = same = 0
    for _ in range(300):
        data = bytearray(original)
        pos = rng.randrange(len(data))
        data[pos] ^= 1 << rng.randrange(8)
        target.write_bytes(bytes(data))
        try:
            got = read_matrix(target)
        except InputError:
            errors += 1
            continue
        assert np.array_equal(got.values, want.values), f"byte {pos}: other P&L, silently"
        assert (got.names, got.labels, got.days) == (want.names, want.labels, want.days)
        assert np.array_equal(got.dates, want.dates)
        same += 1
    assert errors + same == 300 and errors > 250


def test_edited_metadata_fails_its_checksum(prepared_file: Path, tmp_path: Path) -> None:
    data = prepared_file.read_bytes()
    assert data.count(b"2024-01-04") == 1  # the first date, in the footer's metadata
    target = tmp_path / "edited.parquet"
    target.write_bytes(data.replace(b"2024-01-04", b"2024-01-03"))
    with pytest.raises(InputError, match="fails its checksum"):
        read_matrix(target)


def test_cli_names_a_corrupt_prepared_file(
    prepared_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    data = bytearray(prepared_file.read_bytes())
    data[len(data) // 2] ^= 0x10  # inside the pnl pages
    target = tmp_path / "prepared.parquet"
    target.write_bytes(bytes(data))
    code = cli_main(["optimize", str(target), str(tmp_path / "runs"), "--algorithms", "rs"])
    err = capsys.readouterr().err
    assert code == 2 and str(target) in err and "Traceback" not in err


def test_zone_matrix_files_carry_page_checksums(tmp_path: Path) -> None:
    """A zone-mode prepared.parquet is checked on read like every other matrix file."""
    import pyarrow.parquet as pq

    from stratopt.data.zone_matrix import ZONE_COLUMN, read_zone_rows, write_zone_matrix

    rng = np.random.default_rng(2)
    days, zones, n = 6, 3, 40
    values = rng.normal(size=(days, n))
    matrix = _matrix(values, [f"s{i}" for i in range(n)])
    path = tmp_path / "prepared.parquet"
    zone_values = rng.normal(size=(days, zones, n))
    write_zone_matrix(matrix, ["a", "b", "c"], zone_values, path)
    found = read_zone_rows(path)
    assert found is not None
    np.testing.assert_array_equal(found[1], zone_values.transpose(2, 0, 1))
    data = bytearray(path.read_bytes())
    data[len(data) // 3] ^= 0x10  # inside the data pages
    (tmp_path / "flipped.parquet").write_bytes(bytes(data))
    with pytest.raises(InputError):
        read_zone_rows(tmp_path / "flipped.parquet")
    assert ZONE_COLUMN in pq.read_schema(path).names
