"""Strategy names: `SENSEX HHMM-HHMM SLx%` or `SENSEX HHMM-HHMM SLx%TPy%`.

The entry-exit window (the `HHMM-HHMM` part, 124 of them in production) and
the exit rule (the rest, 206 of them) are what the database's strategy table,
the correlation heatmap and balanced reports group by. Names that do not
follow the pattern are still valid strategies: their parsed fields are None.
"""

from __future__ import annotations

import re
from typing import NamedTuple

INVERTED_SUFFIX = "_inv"

_PATTERN = re.compile(
    r"^(?P<underlying>\S+)\s+"
    r"(?P<window>\d{3,4}-\d{3,4})\s+"
    r"(?P<rule>SL(?P<sl>\d+(?:\.\d+)?)%(?:TP(?P<tp>\d+(?:\.\d+)?)%)?)$"
)


class StrategyName(NamedTuple):
    """The parts of one strategy name; None where the name does not say.

    A NamedTuple, not a frozen dataclass: the load_db and correlation_summary jobs
    parse every name (25,544 on the production shape), and a frozen dataclass's
    construction was most of a parse (docs/performance.md)."""

    name: str
    underlying: str | None
    window: str | None  # "HHMM-HHMM" as written (the sample has "930-1030")
    exit_rule: str | None  # "SL7%" or "SL20%TP32%"
    stop_loss: float | None  # percent
    take_profit: float | None  # percent; None when the rule has no TP
    inverted: bool  # the name carries ULTA's "_inv" suffix


def _match(name: str) -> tuple[re.Match[str] | None, bool]:
    inverted = name.endswith(INVERTED_SUFFIX)
    base = name[: -len(INVERTED_SUFFIX)] if inverted else name
    return _PATTERN.match(base.strip()), inverted


def parse_name(name: str) -> StrategyName:
    """Split a strategy name into window, stop loss and take profit."""
    match, inverted = _match(name)
    if match is None:
        return StrategyName(name, None, None, None, None, None, inverted)
    tp = match.group("tp")
    return StrategyName(
        name=name,
        underlying=match.group("underlying"),
        window=match.group("window"),
        exit_rule=match.group("rule"),
        stop_loss=float(match.group("sl")),
        take_profit=float(tp) if tp is not None else None,
        inverted=inverted,
    )


def window_of(name: str) -> str | None:
    """The entry-exit window of a name, or None when it has none (parse_name(name).window)."""
    match = _match(name)[0]
    return None if match is None else match.group("window")
