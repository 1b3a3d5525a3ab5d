"""Which path the prepare stage takes per computation by default (no heavy imports here).

Measured by `stratopt bench db` on the production-shaped twin, 2 cores; the
figures and the dates are in docs/database.md. The bench prints whether a new
measurement still agrees with this choice.
"""

from __future__ import annotations

COMPUTATIONS = ("metrics", "ulta")
PATHS = ("sql", "numpy")
FASTER = {"metrics": "numpy", "ulta": "numpy"}
