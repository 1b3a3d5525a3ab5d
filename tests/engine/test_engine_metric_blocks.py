"""Per-strategy metrics in column blocks: the bits of one whole-matrix pass (less memory)."""

from __future__ import annotations

import numpy as np
import pytest

from stratopt.engine import strategy_metrics as sm


def test_blocks_give_the_whole_matrix_bits(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(8)
    values = rng.normal(0.0, 1000.0, size=(57, 300)).round(2)
    values[:, 3] = 0.0  # no losing day: an infinite profit factor
    values[:, 4] = -5.0  # no winning day
    monkeypatch.setattr(sm, "BLOCK", 10**9)
    whole = sm.strategy_metrics(values)
    monkeypatch.setattr(sm, "BLOCK", 64)  # 4 full blocks and a short one
    blocked = sm.strategy_metrics(values)
    assert whole.keys() == blocked.keys()
    for key, column in whole.items():
        assert column.tobytes() == blocked[key].tobytes(), key
