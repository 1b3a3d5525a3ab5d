"""Named columns of one length: the prepare stage's tables, without pandas.

The prepare stage kept its metrics and its ULTA report in pandas frames, and
importing pandas was a quarter of the job's start (0.35-0.45 s of CPU and
about 40 MB; docs/performance.md). What it needs is a column by name, a
subset of columns, rows taken in an order, and a length: this. `to_frame`
gives the frame that tests and benchmarks compare (pandas imported there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd


class Columns:
    """Columns in order (NumPy arrays, or a list of strings), every one of the same length.

    As with a frame: `c["x"]` is a column, `c[["x", "y"]]` the columns x and y, and
    `len(c)` the number of rows.
    """

    def __init__(self, data: Mapping[str, Any], order: Sequence[str] | None = None) -> None:
        names = list(order) if order is not None else list(data)
        self._data = {name: data[name] for name in names}
        lengths = {len(v) for v in self._data.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns of different lengths: {sorted(lengths)}")
        self._rows = lengths.pop() if lengths else 0

    def __getitem__(self, name: str | Sequence[str]) -> Any:
        if isinstance(name, str):
            return self._data[name]
        return Columns(self._data, list(name))

    def __len__(self) -> int:
        return self._rows

    @property
    def columns(self) -> list[str]:
        return list(self._data)

    def take(self, rows: np.ndarray) -> Columns:
        """The rows at `rows`, in that order (a frame's iloc)."""
        idx = np.asarray(rows)
        return Columns(
            {
                k: (v[idx] if isinstance(v, np.ndarray) else [v[i] for i in idx.tolist()])
                for k, v in self._data.items()
            }
        )

    def to_frame(
        self, index: Sequence[str] | None = None, index_name: str | None = None
    ) -> pd.DataFrame:
        import pandas as pd

        data = {
            k: (v if isinstance(v, np.ndarray) else pd.array(list(v), dtype=object))
            for k, v in self._data.items()
        }
        frame_index = None if index is None else pd.Index(list(index), name=index_name)
        return pd.DataFrame(data, index=frame_index, columns=self.columns)
