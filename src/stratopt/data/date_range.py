"""The config's date_range as dates: one reading for prepare (its SQL filter) and
validate (the same sessions, filtered in memory)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import numpy as np

from stratopt.errors import ConfigError


def _date_or_none(value: Any, key: str) -> np.datetime64 | None:
    """A config date (YAML may give a date object or a string) or None for an open bound."""
    if value is None or value == "":
        return None
    try:
        return np.datetime64(dt.date.fromisoformat(str(value)), "D")
    except ValueError as exc:
        raise ConfigError(f"{key} = {value!r} is not a date (YYYY-MM-DD)") from exc


def date_range(config: Mapping[str, Any]) -> tuple[np.datetime64 | None, np.datetime64 | None]:
    """config date_range.start/end as dates (None = open), start <= end checked."""
    rng = config.get("date_range") or {}
    start = _date_or_none(rng.get("start"), "date_range.start")
    end = _date_or_none(rng.get("end"), "date_range.end")
    if start is not None and end is not None and start > end:
        raise ConfigError(f"date_range.start {start} is after date_range.end {end}")
    return start, end
