"""Strategy names: window, stop loss and take profit parsed for the strategy table."""

from __future__ import annotations

import pytest

from stratopt.data.names import parse_name, window_of


@pytest.mark.parametrize(
    ("name", "window", "sl", "tp", "inv"),
    [
        ("SENSEX 1000-1100 SL7%", "1000-1100", 7.0, None, False),
        ("SENSEX 0915-1530 SL20%TP32%", "0915-1530", 20.0, 32.0, False),
        ("SENSEX 930-1030 SL38%TP27%", "930-1030", 38.0, 27.0, False),
        ("SENSEX 1156-1226 SL73%TP42%_inv", "1156-1226", 73.0, 42.0, True),
        ("my strategy", None, None, None, False),
    ],
)
def test_parse_name(name, window, sl, tp, inv):
    p = parse_name(name)
    assert (p.window, p.stop_loss, p.take_profit, p.inverted) == (window, sl, tp, inv)
    assert window_of(name) == window


def test_every_real_name_parses(real_metrics_csv):
    import pandas as pd

    index = pd.read_csv(real_metrics_csv, index_col=0, usecols=[0]).index
    names = [n.split("161921_", 1)[1] for n in index]
    parsed = [parse_name(n) for n in names]
    assert all(p.window for p in parsed)
    assert len({p.window for p in parsed}) == 124
    assert len({p.exit_rule for p in parsed}) == 206
