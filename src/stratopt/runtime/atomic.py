"""Atomic file writes: a failed stage never leaves a half-written output behind."""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

try:  # parses large documents (the runs' traces) 4-5x faster; the standard library where absent
    import orjson
except ImportError:  # pragma: no cover - Snakemake's own environment, a minimal install
    orjson = None  # type: ignore[assignment]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` only on success."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are shared files
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def write_text(path: str | Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json(path: str | Path, obj: Any, *, compact: bool = False) -> None:
    """Strict JSON (no NaN or Infinity tokens, which other readers refuse).

    A non-finite number raises ValueError before anything is written: the
    caller decides what it means (use finite_or_none where a value is
    legitimately undefined, e.g. a profit factor without losing days).
    Indented for people; `compact` (one line, C encoder) for machine-read files
    with long number lists, where the indented form cost 2-3x the time and 30 %
    more bytes.
    """
    write_text(path, json_text(obj, compact=compact) + "\n")


def json_text(obj: Any, *, compact: bool = False) -> str:
    """The text write_json writes, without its closing newline."""
    if compact:
        return json.dumps(obj, separators=(",", ":"), default=_json_default, allow_nan=False)
    return json.dumps(obj, indent=2, default=_json_default, allow_nan=False)


def finite_or_none(value: Any) -> float | None:
    """A float when finite, else None (null in JSON): for legitimately undefined values."""
    if value is None:
        return None
    x = float(value)
    return x if math.isfinite(x) else None


def loads_strict(text: str | bytes) -> Any:
    """A JSON document (UTF-8 when bytes), refusing the NaN / Infinity tokens write_json
    never writes.

    orjson where installed; whatever it refuses (NaN, numbers beyond a double's
    range, a lone surrogate, bad JSON) goes to the standard library's parser, so
    that every error message is the standard library's. One difference remains:
    orjson reads an integer beyond 64 bits as a float, so a key that must be an
    integer then fails its contract, naming the key (no writer of ours writes one:
    the largest integer in a twin run's JSON files is 3,407,832,851)."""
    if orjson is not None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    return json.loads(text, parse_constant=_refuse_constant)


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"{token} is not valid JSON")


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")
