"""The verdict: one sentence saying what the out-of-sample numbers support.

"evidence of skill" needs both: the pooled out-of-sample result at or above
the percentile bar against random portfolios of the same size, and training
fitness that ranks the algorithms' test results the right way (median
Spearman at or above `spearman_near_zero`). Otherwise "no evidence of skill",
with the reason. A Spearman that is undefined everywhere (every algorithm
found the same portfolio) neither supports nor blocks: it is said so.
"""

from __future__ import annotations

from typing import Any

SKILL = "evidence of skill"
NO_SKILL = "no evidence of skill"


def verdict(
    percentile: float,
    spearman: float | None,
    oos_roi: float,
    survival: float | None,
    *,
    bar: float,
    near_zero: float,
) -> dict[str, Any]:
    """{"skill": bool, "text": the sentence}."""
    beats = percentile >= bar
    if spearman is None:
        ranks = None
        rank_text = "the algorithms' finals cannot be ranked (Spearman undefined)"
    elif spearman >= near_zero:
        ranks = True
        rank_text = (
            f"training fitness ranked the algorithms' test results (Spearman {spearman:+.2f})"
        )
    else:
        ranks = False
        how = "backwards" if spearman <= -near_zero else "no better than chance"
        rank_text = (
            f"training fitness ranked the algorithms' test results {how} (Spearman {spearman:+.2f})"
        )
    place = (
        f"the pick beat {percentile:.1f} % of random portfolios of the same size out of sample "
        f"(bar {bar:g} %)"
    )
    skill = beats and ranks is not False
    head = SKILL if skill else NO_SKILL
    reasons = [place, rank_text]
    tail = []
    if oos_roi < 0:
        tail.append(f"it lost ₹{-oos_roi:,.0f} out of sample")
    if survival is not None:
        tail.append(
            f"its out-of-sample P&L per session was {100 * survival:.0f} % of its training one"
        )
    text = f"{head}: {'; '.join(reasons)}"
    if tail:
        text += "; " + ", ".join(tail)
    return {"skill": skill, "text": text + "."}
