"""`stratopt bench layout`: the three candidate Parquet layouts of the T x N matrix.

Wide (one float64 column per strategy), long (strategy_id, day, pnl rows) and
one row per strategy with a fixed-size list of T values (the layout chosen,
stratopt.data.matrix). Each is written and read back into a T x N float64 array.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from stratopt.bench.timing import compare, format_table

LAYOUTS = ("wide", "long", "list")


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("layout", help="wide vs long vs list-column Parquet for the P&L matrix")
    parser.add_argument("--days", type=int, default=82, help="T, the sessions")
    parser.add_argument("--strategies", type=int, default=25544, help="N, the strategies")
    parser.add_argument("--repeats", type=int, default=5, help="child runs of each (median)")
    parser.set_defaults(func=_run)


def _values(days: int, strategies: int) -> np.ndarray:
    return np.round(np.random.default_rng(0).normal(0.0, 500.0, (days, strategies)), 4)


def _table(layout: str, x: np.ndarray) -> pa.Table:
    t, n = x.shape
    if layout == "wide":
        return pa.table({f"s{i}": x[:, i] for i in range(n)})
    if layout == "long":
        return pa.table(
            {
                "strategy_id": np.repeat(np.arange(n, dtype=np.int32), t),
                "day": np.tile(np.arange(t, dtype=np.int16), n),
                "pnl": x.T.ravel(),
            }
        )
    flat = pa.array(np.ascontiguousarray(x.T).ravel())
    return pa.table(
        {
            "strategy_id": np.arange(n, dtype=np.int32),
            "pnl": pa.FixedSizeListArray.from_arrays(flat, t),
        }
    )


def write(layout: str, path: str, days: int, strategies: int) -> None:
    pq.write_table(_table(layout, _values(days, strategies)), path, compression="zstd")


def read(layout: str, path: str, days: int, strategies: int) -> None:
    table = pq.read_table(path)
    if layout == "wide":
        x = np.column_stack([c.to_numpy() for c in table.columns])
    elif layout == "long":
        x = table.column("pnl").to_numpy().reshape(strategies, days).T
    else:
        x = table.column("pnl").combine_chunks().values.to_numpy().reshape(strategies, days).T
    assert x.shape == (days, strategies)


def _run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        targets, files = {}, {}
        for layout in LAYOUTS:
            files[layout] = str(Path(tmp) / f"{layout}.parquet")
            kw = {
                "layout": layout,
                "path": files[layout],
                "days": args.days,
                "strategies": args.strategies,
            }
            targets[f"{layout}: write"] = (f"{__name__}:write", kw)
            targets[f"{layout}: read -> T x N"] = (f"{__name__}:read", kw)
        results = compare(targets, repeats=args.repeats)
        sizes = {layout: os.path.getsize(path) for layout, path in files.items()}
    print(f"{args.days} x {args.strategies} float64, {args.repeats} runs each, medians")
    print(format_table(list(results.values())))
    print("file sizes (bytes): " + ", ".join(f"{k} {v:,}" for k, v in sizes.items()))
    return 0
