"""Arrow columns built from their buffers, for small tables a stage writes.

Why: pa.array() (and pa.table() on Python lists) imports pandas on first use,
whether or not a value is a pandas object: about 0.5 s of CPU and 40 MB in a
stage process that has no other use for pandas (the select stage). These
builders give the same arrays (no nulls: a None is refused, not turned into
NaN) from NumPy buffers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyarrow as pa


def numbers(values: Sequence[Any] | np.ndarray, dtype: type) -> pa.Array:
    """A primitive column of `values` as NumPy's `dtype` (np.int32 -> int32, ...)."""
    if any(v is None for v in values):
        raise TypeError("a missing value: these columns have no nulls")
    data: np.ndarray = np.ascontiguousarray(np.asarray(values, dtype=dtype))
    kind = pa.from_numpy_dtype(data.dtype)
    return pa.Array.from_buffers(kind, len(data), [None, pa.py_buffer(data)])


def booleans(values: Sequence[bool]) -> pa.Array:
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


def lists(items: Sequence[Sequence[Any]], child: pa.Array) -> pa.Array:
    """A list column whose rows are `items`, their values already flattened into `child`."""
    offsets = _offsets([len(row) for row in items])
    if offsets[-1] != len(child):
        raise ValueError(f"the rows hold {offsets[-1]} values, the child array {len(child)}")
    return pa.ListArray.from_arrays(numbers(offsets, np.int32), child)


def _offsets(lengths: Sequence[int]) -> np.ndarray:
    """int32 offsets: 0, then the running total of `lengths`."""
    return np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int32)
