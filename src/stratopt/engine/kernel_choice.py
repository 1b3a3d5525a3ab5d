"""Which path the evaluator computes on: the compiled (numba) kernels or its array code.

Apart from stratopt.engine.backend so that the rules that only pick an array
module (correlation, the database, the GPU probe) do not depend on numba.
"""

from __future__ import annotations

import logging
import os
from types import ModuleType
from typing import Any, Literal, TypeAlias

from stratopt.engine.backend import numpy_module

#: `compiled` as the evaluator takes it: None (numba where it applies), False (the array
#: code), True (numba, or an error), "python" (the kernels' arithmetic in Python loops).
Compiled: TypeAlias = bool | Literal["python"] | None


def load_kernels(xp: ModuleType, metric: Any, compiled: Compiled) -> ModuleType | None:
    """The numba kernels when they apply: NumPy backend, a statistics-based metric, numba present.

    "python" gives stratopt.engine.loop_kernels instead (same bits, no numba: for a
    few portfolios, where loading numba costs more than evaluating them).
    """
    if compiled is False or (compiled != "python" and os.environ.get("STRATOPT_NO_NUMBA")):
        return None
    usable = xp is numpy_module() and hasattr(metric, "from_stats")
    if compiled == "python" and usable:
        from stratopt.engine import loop_kernels

        return loop_kernels
    if not usable:
        if compiled:
            raise ValueError("compiled kernels need the NumPy backend and a built-in metric")
        return None
    try:
        from stratopt.engine import kernels
    except ImportError:
        if compiled:
            raise
        logging.getLogger("stratopt.engine.evaluator").warning(
            "numba is not installed: the evaluator runs its NumPy path"
        )
        return None
    return kernels
