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


def test_nullable_dates_and_blob_builders_give_pa_array_s_arrays() -> None:
    floats = [1.5, None, -2.0, None]
    assert cols.optional_numbers(floats, np.float64).equals(pa.array(floats, type=pa.float64()))
    assert cols.optional_numbers([1.0, 2.0], np.float64).equals(pa.array([1.0, 2.0]))
    words = ["930-1030", None, "", "1515-1525"]
    assert cols.optional_strings(words).equals(pa.array(words, type=pa.string()))
    assert cols.optional_strings(["a"]).equals(pa.array(["a"], type=pa.string()))
    days = np.array(["1969-12-31", "2024-02-29", "2025-07-26"], dtype="datetime64[D]")
    assert cols.dates(days).equals(pa.array(days.astype(np.int32), pa.int32()).cast(pa.date32()))
    blob = b"1.5,-2,3e4"
    assert cols.one_blob(blob).equals(pa.array([blob], type=pa.large_binary()))
    big = np.arange(10.0)
    assert cols.numbers(big, np.float64).equals(pa.array(big))


def test_masked_is_pa_array_with_a_mask() -> None:
    v = np.array([1.0, np.inf, -2.0, np.nan])
    valid = np.isfinite(v)
    assert cols.masked(v, valid).equals(pa.array(v, mask=~valid, type=pa.float64()))
    assert cols.masked(v[valid], valid[valid]).null_count == 0


def test_column_values_read_what_to_numpy_reads() -> None:
    floats = pa.chunked_array([pa.array([1.5, None]), pa.array([-2.0, 3.0, None])])
    got = cols.column_values(floats)
    np.testing.assert_array_equal(got, [1.5, np.nan, -2.0, 3.0, np.nan])
    ints = pa.array(np.arange(20, dtype=np.int32)).slice(3, 9)  # an offset into the buffer
    np.testing.assert_array_equal(cols.column_values(ints), np.arange(3, 12))
    assert cols.column_values(ints).dtype == np.int32
    flags = pa.array([True, False, True, True, False, False, False, False, True]).slice(1)
    np.testing.assert_array_equal(cols.column_values(flags), flags.to_numpy(zero_copy_only=False))
    view = cols.column_values(pa.array([1.0, 2.0]), copy=False)
    assert not view.flags.writeable  # the buffer itself
    assert cols.column_values(pa.array([], type=pa.float64())).shape == (0,)
    with pytest.raises(ValueError, match="missing values"):
        cols.column_values(pa.array([1, None], type=pa.int64()))
