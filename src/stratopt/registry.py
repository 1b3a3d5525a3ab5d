"""Plugin registries, one per entry-point group (stratopt.algorithms, ...).

Scanning the installed distributions for entry points costs about 5-10 ms,
and the optimize stage looks an algorithm up for every (algorithm, size)
unit (528 lookups in the default run), so `load` keeps the last scan of each
group for as long as sys.path is unchanged; `available` always scans afresh.
"""

from __future__ import annotations

import sys
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


#: kind -> (sys.path when scanned, its entry points)
_SCANS: dict[str, tuple[tuple[str, ...], dict[str, EntryPoint]]] = {}


def _cached(kind: str, name: str) -> dict[str, EntryPoint]:
    """The group's entry points from the last scan, scanned again when sys.path
    changed or the name is not there (a plugin installed since)."""
    path = tuple(sys.path)
    scan = _SCANS.get(kind)
    if scan is None or scan[0] != path or name not in scan[1]:
        scan = (path, available(kind))
        _SCANS[kind] = scan
    return scan[1]


def load(kind: str, name: str) -> Any:
    key = name.lower()
    eps = _cached(kind, key)
    if key not in eps:
        raise ConfigError(f"no {kind} plugin named {name!r}; installed: {', '.join(sorted(eps))}")
    return eps[key].load()
