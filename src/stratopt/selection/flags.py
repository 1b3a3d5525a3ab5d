"""Flags on a pick whose training figures are too good to be evidence.

A portfolio chosen in hindsight with (almost) no drawdown, or one that won on
every training session, scores an enormous legacy `ratio` (ROI x 100 at zero
drawdown) that says more about the search than about the strategies. Such
picks are flagged wherever they are reported: summary.json, validation.json
and the report.
"""

from __future__ import annotations

#: The default of the config key `flag_drawdown_below` (rupees).
DEFAULT_DRAWDOWN_BELOW = 1.0


def hindsight_flags(
    max_drawdown: float, win_rate: float, drawdown_below: float = DEFAULT_DRAWDOWN_BELOW
) -> list[str]:
    """The reasons to distrust a pick's training figures (empty: none)."""
    flags = []
    if max_drawdown < drawdown_below:
        flags.append(f"training max drawdown ₹{max_drawdown:,.4g} below ₹{drawdown_below:g}")
    if win_rate >= 1.0:
        flags.append("won on every training session (win rate 100 %)")
    return flags
