"""The search algorithms, one plugin each (entry-point group stratopt.algorithms).

Load one through the registry: `stratopt.algorithms.load_algorithm("sa")`.
"""

from __future__ import annotations

from typing import Any


def load_algorithm(name: str) -> Any:
    """An instance of the algorithm plugin registered under `name`."""
    from stratopt.registry import load

    plugin = load("algorithms", name)
    return plugin() if isinstance(plugin, type) else plugin


def available_algorithms() -> list[str]:
    from stratopt.registry import available

    return sorted(available("algorithms"))
