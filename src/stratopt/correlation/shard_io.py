"""The shard_{i}.parquet layout: one long table plus JSON metadata.

Columns: kind (string), i (int64), j (int64), r (float64), n (int64). Kinds:
  hist        i = bin, n = count
  threshold   i = index into settings.thresholds, r = threshold, n = pairs with |r| >= it
  top_pos     i, j, r (best first); top_neg: i, j, r (most negative first)
  partner     i = strategy, j = its most correlated partner within the shard, r
  near_dup    i, j, r: a spanning forest of the pairs with r >= near_duplicate
Metadata key b"stratopt_correlation": shard, shards, N, T, pairs, settings,
near-duplicate count, seconds. Its size is O(N) at most (the partners).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa

from stratopt import contracts
from stratopt.correlation.pairs import Pairs
from stratopt.correlation.shard import ShardSummary
from stratopt.data.matrix import read_table, write_table

META_KEY = contracts.CORRELATION_SHARD.metadata  # b"stratopt_correlation"
PAIR_KINDS = {
    "top_pos": "top_positive",
    "top_neg": "top_negative",
    "partner": "partners",
    "near_dup": "near_duplicate_forest",
}


def _rows(kind: str, i: np.ndarray, j: np.ndarray, r: np.ndarray, n: np.ndarray) -> dict:
    return {"kind": kind, "i": i, "j": j, "r": r, "n": n}


def to_table(summary: ShardSummary) -> pa.Table:
    parts = []
    bins = np.arange(len(summary.hist))
    parts.append(_rows("hist", bins, bins * 0, bins * 0.0, summary.hist))
    th = np.asarray(summary.meta["settings"]["thresholds"], dtype=np.float64)
    k = np.arange(len(th))
    parts.append(_rows("threshold", k, k * 0, th, summary.threshold_counts))
    for kind, attr in PAIR_KINDS.items():
        p: Pairs = getattr(summary, attr)
        parts.append(_rows(kind, p.i, p.j, p.r, np.zeros(len(p), dtype=np.int64)))
    columns = {
        "kind": _kinds([(p["kind"], len(p["i"])) for p in parts]),
        **{
            name: _column(np.concatenate([np.asarray(p[name]) for p in parts]).astype(dtype))
            for name, dtype in (
                ("i", np.int64),
                ("j", np.int64),
                ("r", np.float64),
                ("n", np.int64),
            )
        },
    }
    meta = {**summary.meta, "near_duplicate_pairs": summary.near_duplicate_pairs}
    table = pa.Table.from_arrays(list(columns.values()), names=list(columns))
    return table.replace_schema_metadata({META_KEY: json.dumps(meta).encode()})


# Arrays are built from their buffers: pa.array() imports pandas on first use,
# about 0.3 s of CPU and 45 MB in every shard process, for a 10 kB table.
def _column(values: np.ndarray) -> pa.Array:
    """A primitive Arrow array over a NumPy array's memory (no nulls)."""
    values = np.ascontiguousarray(values)
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def _kinds(runs: list[tuple[str, int]]) -> pa.DictionaryArray:
    """The kind column, dictionary-encoded as Array.dictionary_encode() does it:
    int32 indices, the kinds present in order of first appearance."""
    present = [kind for kind, count in runs if count]
    present = list(dict.fromkeys(present))
    text = "".join(present).encode()
    offsets = np.cumsum([0, *(len(k.encode()) for k in present)]).astype(np.int32)
    dictionary = pa.Array.from_buffers(
        pa.string(), len(present), [None, pa.py_buffer(offsets), pa.py_buffer(text)]
    )
    codes = [np.full(count, present.index(kind), dtype=np.int32) for kind, count in runs if count]
    indices = _column(np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(indices, dictionary)


def write_shard(summary: ShardSummary, path: str | Path) -> None:
    table = to_table(summary)
    contracts.CORRELATION_SHARD.check_schema(table.schema, path)
    write_table(table, path, compression="zstd")  # with page checksums


def _kind_text(column: pa.ChunkedArray) -> np.ndarray:
    """Each row's kind as text, decoded from the dictionary by NumPy indexing.

    Why not Array.to_numpy on the strings: that imports pandas, which the
    correlation_summary job needs nowhere else (about 0.6 s of CPU and 26 MB
    there, one run each way), for a 10 kB table.
    """
    arr = column.combine_chunks()
    if not pa.types.is_dictionary(arr.type):
        return np.array(arr.to_pylist(), dtype=object)
    names = np.array(arr.dictionary.to_pylist(), dtype=object)
    return names[_numbers(arr.indices)]


def _numbers(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A primitive column without nulls as NumPy, from its buffer (to_numpy imports pandas)."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if arr.null_count:
        raise ValueError("a shard column holds nulls")
    dtype = np.dtype(arr.type.to_pandas_dtype())
    return np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset : arr.offset + len(arr)]


def read_shard(path: str | Path) -> ShardSummary:
    table = read_table(path)  # page checksums verified
    contracts.CORRELATION_SHARD.check_schema(table.schema, path)  # its columns and metadata
    meta = json.loads(table.schema.metadata[META_KEY])
    kind = _kind_text(table.column("kind"))
    cols = {c: _numbers(table.column(c)) for c in ("i", "j", "r", "n")}

    def select(name: str) -> dict[str, np.ndarray]:
        mask = kind == name
        return {c: v[mask] for c, v in cols.items()}

    hist = select("hist")
    bins = meta["settings"]["bins"]
    histogram = np.zeros(bins, dtype=np.int64)
    histogram[hist["i"]] = hist["n"]
    th = select("threshold")
    counts = np.zeros(len(meta["settings"]["thresholds"]), dtype=np.int64)
    counts[th["i"]] = th["n"]
    pairs = {}
    for k, attr in PAIR_KINDS.items():
        rows = select(k)
        pairs[attr] = Pairs(rows["i"], rows["j"], rows["r"])
    return ShardSummary(
        meta=meta,
        hist=histogram,
        threshold_counts=counts,
        near_duplicate_pairs=int(meta["near_duplicate_pairs"]),
        **pairs,
    )
