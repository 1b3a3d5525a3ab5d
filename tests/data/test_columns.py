"""Columns: the prepare stage's tables without pandas; the frames the tests compare."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from stratopt.data.columns import Columns


def test_columns_behave_like_the_frame_they_stand_for() -> None:
    c = Columns({"b": np.array([1.0, 2.0, 3.0]), "name": ["x", "y", "z"]}, ["name", "b"])
    assert c.columns == ["name", "b"] and len(c) == 3
    assert list(c[["b"]].columns) == ["b"]
    taken = c.take(np.array([2, 0]))
    assert taken["name"] == ["z", "x"] and taken["b"].tolist() == [3.0, 1.0]
    frame = c.to_frame(["s1", "s2", "s3"], "strategy")
    want = pd.DataFrame(
        {"name": pd.array(["x", "y", "z"], dtype=object), "b": [1.0, 2.0, 3.0]},
        index=pd.Index(["s1", "s2", "s3"], name="strategy"),
    )
    pd.testing.assert_frame_equal(frame, want)
    assert len(Columns({})) == 0


def test_columns_of_different_lengths_are_refused() -> None:
    with pytest.raises(ValueError, match="different lengths"):
        Columns({"a": np.zeros(2), "b": np.zeros(3)})
