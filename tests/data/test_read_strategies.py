"""read_strategies (a few strategies, batch by batch) == read_matrix's columns, bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from stratopt.data import matrix as M


@pytest.fixture
def stored(tmp_path: Path) -> tuple[Path, M.Matrix]:
    rng = np.random.default_rng(4)
    t, n = 23, 5000  # more strategies than one batch
    values = rng.normal(0.0, 500.0, size=(t, n))
    matrix = M.Matrix(
        dates=np.datetime64("2024-01-01") + np.arange(t),
        days=["Mon"] * t,
        names=[f"s{i}" for i in range(n)],
        values=values,
        labels=["a.csv"] * n,
    )
    path = tmp_path / "prepared.parquet"
    M.write_matrix(matrix, path)
    return path, matrix


@pytest.mark.parametrize("indices", [[0], [4999, 3, 2048, 2047], list(range(100, 4000, 37))])
def test_the_rows_and_their_mean_are_read_matrix_s(
    stored: tuple[Path, M.Matrix], indices: list[int]
) -> None:
    path, _ = stored
    whole = M.read_matrix(path)
    dates, names, values = M.read_strategies(path, indices)
    expected = whole.values[:, indices]
    assert (dates == whole.dates).all() and names == whole.names
    assert values.tobytes() == expected.tobytes() and values.strides == expected.strides
    assert values.mean(axis=1).tobytes() == expected.mean(axis=1).tobytes()


def test_an_index_out_of_range_is_an_index_error(stored: tuple[Path, M.Matrix]) -> None:
    with pytest.raises(IndexError):
        M.read_strategies(stored[0], [5000])
