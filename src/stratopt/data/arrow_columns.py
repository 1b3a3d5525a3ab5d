"""Arrow columns built from their buffers, for small tables a stage writes.

Why: pa.array(), pa.scalar() (and pa.table() on Python lists) import pandas on
first use, whether or not a value is a pandas object: about 0.5 s of CPU and
40 MB in a stage process that has no other use for pandas (select, ingest,
load_db). These builders give the same arrays from NumPy buffers (no nulls,
a None refused and not turned into NaN, except in `optional_numbers`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa


def numbers(values: Sequence[Any] | np.ndarray, dtype: type) -> pa.Array:
    """A primitive column of `values` as NumPy's `dtype` (np.int32 -> int32, ...)."""
    numeric = isinstance(values, np.ndarray) and values.dtype != object
    if not numeric and any(v is None for v in values):
        raise TypeError("a missing value: these columns have no nulls")
    data: np.ndarray = np.ascontiguousarray(np.asarray(values, dtype=dtype))
    kind = pa.from_numpy_dtype(data.dtype)
    return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])


def optional_numbers(values: Sequence[Any], dtype: type) -> pa.Array:
    """A primitive column where a None is a null (its slot holds 0, as pa.array's does)."""
    present = np.array([v is not None for v in values], dtype=bool)
    data: np.ndarray = np.zeros(len(values), dtype=dtype)
    data[present] = [v for v in values if v is not None]
    kind = pa.from_numpy_dtype(data.dtype)
    if present.all():
        return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])
    valid = pa.py_buffer(np.packbits(present, bitorder="little"))
    nulls = int(len(values) - present.sum())
    return pa.Array.from_buffers(kind, len(data), [valid, pa.py_buffer(data)], null_count=nulls)


def masked(values: np.ndarray, valid: np.ndarray) -> pa.Array:
    """A primitive column of NumPy `values`, null where `valid` is False (pa.array's
    `mask=~valid`: the slot keeps its value, which no reader sees)."""
    data: np.ndarray = np.ascontiguousarray(values)
    kind = pa.from_numpy_dtype(data.dtype)
    present = np.asarray(valid, dtype=bool)
    if present.all():
        return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])
    bits = pa.py_buffer(np.packbits(present, bitorder="little"))
    nulls = int(len(data) - present.sum())
    return pa.Array.from_buffers(kind, len(data), [bits, pa.py_buffer(data)], null_count=nulls)


def dates(days: np.ndarray) -> pa.Array:
    """A date32 column from datetime64 values (whole days since 1970-01-01)."""
    data = np.ascontiguousarray(np.asarray(days, dtype="datetime64[D]").astype(np.int32))
    return pa.Array.from_buffers(pa.date32(), len(data), [None, pa.py_buffer(data)])


def one_blob(blob: bytes) -> pa.Array:
    """A large_binary column of one value: `blob` (ingest's joined cells)."""
    offsets = np.array([0, len(blob)], dtype=np.int64)
    return pa.Array.from_buffers(
        pa.large_binary(), 1, [None, pa.py_buffer(offsets), pa.py_buffer(blob)]
    )


def booleans(values: Sequence[bool] | np.ndarray) -> pa.Array:
    """A bool column (bits, least significant first, as Arrow packs them)."""
    bits = np.packbits(np.asarray(values, dtype=bool), bitorder="little")
    return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])


def strings(values: Sequence[str]) -> pa.Array:
    """A UTF-8 string column."""
    encoded = [str(v).encode("utf-8") for v in values]
    offsets = _offsets([len(b) for b in encoded])
    return pa.Array.from_buffers(
        pa.string(), len(encoded), [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    )


def optional_strings(values: Sequence[str | None]) -> pa.Array:
    """A UTF-8 string column where a None is a null."""
    present = np.array([v is not None for v in values], dtype=bool)
    if present.all():
        return strings([str(v) for v in values])
    encoded = [b"" if v is None else str(v).encode("utf-8") for v in values]
    offsets = _offsets([len(b) for b in encoded])
    valid = pa.py_buffer(np.packbits(present, bitorder="little"))
    buffers = [valid, pa.py_buffer(offsets), pa.py_buffer(b"".join(encoded))]
    nulls = int(len(values) - present.sum())
    return pa.Array.from_buffers(pa.string(), len(encoded), buffers, null_count=nulls)


def lists(items: Sequence[Sequence[Any]], child: pa.Array) -> pa.Array:
    """A list column whose rows are `items`, their values already flattened into `child`."""
    offsets = _offsets([len(row) for row in items])
    if offsets[-1] != len(child):
        raise ValueError(f"the rows hold {offsets[-1]} values, the child array {len(child)}")
    return pa.ListArray.from_arrays(numbers(offsets, np.int32), child)


def _offsets(lengths: Sequence[int]) -> np.ndarray:
    """int32 offsets: 0, then the running total of `lengths`."""
    return np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int32)


def float_values(array: pa.Array) -> np.ndarray:
    """A null-free float64 array's values, a read-only view of its buffer
    (Array.to_numpy imports pandas: 45 MB and ~0.5 s per process)."""
    if array.null_count or array.type != pa.float64():
        raise TypeError(f"a float64 array without nulls, not {array.type} with nulls")
    return np.frombuffer(array.buffers()[1], dtype=np.float64)[
        array.offset : array.offset + len(array)
    ]


def column_values(column: pa.Array | pa.ChunkedArray, *, copy: bool = True) -> np.ndarray:
    """A numeric or bool column as NumPy, from its buffers (Array.to_numpy and
    ChunkedArray.to_numpy import pandas): a null becomes NaN in a float column and is
    refused in any other. copy=False: a read-only view where there are no nulls."""
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    n, first = len(arr), arr.offset
    if pa.types.is_boolean(arr.type):
        data = _bits(arr.buffers()[1], first, n)
    else:
        dtype = np.dtype(arr.type.to_pandas_dtype())
        buffer = arr.buffers()[1]
        data = np.frombuffer(buffer, dtype=dtype)[first : first + n] if n else np.zeros(0, dtype)
        if copy or arr.null_count:
            data = data.copy()
        else:
            data.flags.writeable = False  # Arrow's memory, shared
    if arr.null_count:
        if data.dtype.kind != "f":
            raise ValueError(f"a {arr.type} column with {arr.null_count} missing values")
        data[~_bits(arr.buffers()[0], first, n)] = np.nan
    return data


def _bits(buffer: pa.Buffer, first: int, n: int) -> np.ndarray:
    """Bits first..first+n-1 of an Arrow bitmap (least significant first) as bools."""
    raw = np.frombuffer(buffer, dtype=np.uint8)
    return np.unpackbits(raw, bitorder="little")[first : first + n].astype(bool)
