"""Plugin registries, one per entry-point group (stratopt.algorithms, ...)."""

from __future__ import annotations

from importlib.metadata import EntryPoint, entry_points
from typing import Any

from stratopt.errors import ConfigError

GROUPS = ("algorithms", "databases", "backends", "metrics")


def _group(kind: str) -> str:
    if kind not in GROUPS:
        raise ValueError(f"unknown plugin kind {kind!r}; known: {', '.join(GROUPS)}")
    return f"stratopt.{kind}"


def available(kind: str) -> dict[str, EntryPoint]:
    """Entry points of one group, by lower-case name (a later duplicate wins)."""
    return {ep.name.lower(): ep for ep in entry_points(group=_group(kind))}


def load(kind: str, name: str) -> Any:
    eps = available(kind)
    key = name.lower()
    if key not in eps:
        raise ConfigError(f"no {kind} plugin named {name!r}; installed: {', '.join(sorted(eps))}")
    return eps[key].load()
