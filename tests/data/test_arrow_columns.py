"""Columns built from buffers (no pandas import) == pa.array's, value and type."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from stratopt.data import arrow_columns as cols


def test_the_builders_give_pa_array_s_arrays() -> None:
    assert cols.numbers([1, -2, 3], np.int32).equals(pa.array([1, -2, 3], type=pa.int32()))
    assert cols.numbers([1.5, float("inf"), -0.0], np.float64).equals(
        pa.array([1.5, float("inf"), -0.0], type=pa.float64())
    )
    flags = [True, False] * 9 + [True]
    assert cols.booleans(flags).equals(pa.array(flags, type=pa.bool_()))
    words = ["ga", "", "Ünïcode ₹", "hc"]
    assert cols.strings(words).equals(pa.array(words, type=pa.string()))
    rows = [[3, 1], [], [7]]
    ints = cols.numbers([i for r in rows for i in r], np.int32)
    assert cols.lists(rows, ints).equals(pa.array(rows, type=pa.list_(pa.int32())))
    names = [["a", "b"], ["c"], []]
    flat = cols.strings([n for r in names for n in r])
    assert cols.lists(names, flat).equals(pa.array(names, type=pa.list_(pa.string())))


def test_a_missing_value_is_refused_not_made_nan() -> None:
    with pytest.raises(TypeError):
        cols.numbers([1.0, None], np.float64)


def test_rows_and_child_must_agree() -> None:
    with pytest.raises(ValueError):
        cols.lists([[1, 2]], cols.numbers([1], np.int32))
