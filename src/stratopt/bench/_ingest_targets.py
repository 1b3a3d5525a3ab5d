"""The functions `stratopt bench ingest` times, each in a child process.

Their imports happen here, at module import, before the timed call.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from stratopt import contracts
from stratopt.data.ingest import ingest
from stratopt.data.matrix import read_matrix


def pandas_read(path: str) -> None:
    """The legacy's load: pandas' C engine on the whole file."""
    pd.read_csv(path)


def csv_to_parquet(path: str, out: str) -> None:
    ingest(path, out, str(Path(out).with_name(contracts.INGEST.file_name())))


def parquet_to_array(path: str) -> None:
    values = read_matrix(path).values
    assert values.dtype.name == "float64"
