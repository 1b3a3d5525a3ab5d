"""The objective's parameters for the kernels that score (kernels._scalar_score).

The population kernel (small batches) and the compiled climbs score
portfolios with the scalar formulas of `ratio` and `guarded ratio`; this is
the one place that says when they apply and with which parameters.
"""

from __future__ import annotations

from typing import Any

import numpy

from stratopt.engine import objectives


def kernel_score(ev: Any) -> numpy.ndarray | None:
    """(metric, floor, use_corr, clip, penalty_scale, halve_below, n_days) for an
    Evaluator, or None where the kernels cannot score: no kernels, balanced or zone
    mode, another metric."""
    kernels = ev._kernels
    if kernels is None or not hasattr(kernels, "_scalar_score"):
        return None
    if ev.balanced or ev.zone_mode:
        return None
    fn = ev._metric_fn
    if fn is objectives.ratio:
        metric, floor = kernels.RATIO, -1.0
    elif getattr(fn, "with_floor", None) is objectives.guarded_ratio_with_floor:
        fixed = getattr(fn, "floor", None)
        metric, floor = kernels.GUARDED, (-1.0 if fixed is None else float(fixed))
    else:
        return None
    halve = ev.drawdown_threshold if ev._dd_rule and ev.drawdown_threshold > 0 else 0.0
    return numpy.array(
        [
            metric,
            floor,
            float(ev._use_corr),
            float(ev._clip_negative),
            float(ev._penalty_scale),
            float(halve),
            float(ev.n_days),
        ]
    )
