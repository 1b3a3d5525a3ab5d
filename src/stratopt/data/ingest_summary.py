"""What ingest understood of the user's data, in one screen of text.

Built from ingest.json alone (rows, dates, weekdays, strategies, periods per
year, blanks, warnings, zones, the files read), so the same text is printed
when the data is read (rule publish_ingest: the terminal, and logs/ingest.log
through the ingest rule), when a run starts on data read before (the
workflow's onstart), and by `stratopt answer --data`. Standard library only:
the Snakefile imports it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

#: Warnings shown in full; the rest are counted (all are in ingest.json).
SHOWN_WARNINGS = 6
#: Files of a folder named one by one; the rest are counted.
SHOWN_FILES = 4
#: A warning longer than this is cut, so that the summary stays one screen.
WARNING_WIDTH = 150


def _count(value: Any) -> str:
    return f"{int(value):,}" if isinstance(value, (int, float)) else "?"


def _sources(doc: Mapping[str, Any]) -> str:
    sources = [s for s in doc.get("sources") or [] if isinstance(s, Mapping)]
    if not sources:
        return "(no source recorded)"
    if len(sources) == 1:
        src = sources[0]
        return f"{src.get('path', '?')} ({_count(src.get('bytes'))} bytes)"
    total = sum(int(s.get("bytes") or 0) for s in sources)
    names = [Path(str(s.get("path", "?"))).name for s in sources]
    shown = ", ".join(names[:SHOWN_FILES])
    more = f" and {len(names) - SHOWN_FILES} more" if len(names) > SHOWN_FILES else ""
    folder = Path(str(sources[0].get("path", "."))).parent
    return f"{len(sources)} files in {folder} ({total:,} bytes): {shown}{more}"


def _weekdays(days: Sequence[Any]) -> str:
    counts = Counter(str(d) for d in days)
    return ", ".join(f"{day} {n}" for day, n in counts.most_common()) or "(none)"


def _blanks(doc: Mapping[str, Any]) -> str:
    total = int(doc.get("blank_cells_total") or 0)
    if not total:
        return "none"
    columns = len(doc.get("blank_cells") or {})
    return f"{total:,} cells in {columns:,} strategies, read as 0 (the legacy's rule)"


def _used_sessions(doc: Mapping[str, Any], config: Mapping[str, Any] | None) -> str | None:
    """How many sessions the configured date_range keeps, when one is set."""
    rng = (config or {}).get("date_range") or {}
    start, end = (str(rng.get(k) or "")[:10] for k in ("start", "end"))
    if not (start or end):
        return None
    try:
        days = [dt.date.fromisoformat(str(d)[:10]) for d in doc.get("dates") or []]
        lo = dt.date.fromisoformat(start) if start else None
        hi = dt.date.fromisoformat(end) if end else None
    except ValueError:
        return None
    kept = [d for d in days if (lo is None or d >= lo) and (hi is None or d <= hi)]
    cover = f"{kept[0]} .. {kept[-1]}" if kept else "none"
    return f"{len(kept)} of {len(days)} ({cover}; date_range {start or 'open'} .. {end or 'open'})"


def _warnings(doc: Mapping[str, Any]) -> list[str]:
    warnings = [str(w) for w in doc.get("warnings") or []]
    if not warnings:
        return ["  warnings           none"]
    lines = [f"  warnings           {len(warnings):,}:"]
    for text in warnings[:SHOWN_WARNINGS]:
        one = " ".join(text.split())
        cut = one if len(one) <= WARNING_WIDTH else one[: WARNING_WIDTH - 3] + "..."
        lines.append(f"    - {cut}")
    if len(warnings) > SHOWN_WARNINGS:
        lines.append(f"    ... and {len(warnings) - SHOWN_WARNINGS:,} more in ingest.json")
    return lines


def summary_lines(doc: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> list[str]:
    """The summary of one ingest.json, line by line (no line over ~160 characters)."""
    ppy = doc.get("periods_per_year")
    ppy_text = f"{float(ppy):.1f}" if isinstance(ppy, (int, float)) else "?"
    lines = [
        f"What stratopt read from {_sources(doc)}",
        f"  sessions (rows)    {_count(doc.get('rows'))}, "
        f"{doc.get('first_date')} .. {doc.get('last_date')}",
        f"  weekdays           {_weekdays(doc.get('days') or [])}",
        f"  strategies         {_count(doc.get('strategies'))}",
        f"  periods per year   {ppy_text} (from the dates: annualised figures use it)",
        f"  blank cells        {_blanks(doc)}",
    ]
    used = _used_sessions(doc, config)
    if used:
        lines.append(f"  sessions used      {used}")
    zones = doc.get("zones")
    if zones:
        dropped = int(doc.get("dropped_zone_rows") or 0)
        lines.append(
            f"  zones              {len(zones)}: {', '.join(map(str, zones))} "
            f"({_count(doc.get('zone_rows'))} rows; {dropped:,} rows of dropped zones)"
        )
    return lines + _warnings(doc)


def format_summary(doc: Mapping[str, Any], config: Mapping[str, Any] | None = None) -> str:
    return "\n".join(summary_lines(doc, config))


def read_summary(path: str | Path, config: Mapping[str, Any] | None = None) -> str:
    """The summary of the ingest.json at `path` (OSError/ValueError when unreadable)."""
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: not an ingest report")
    return format_summary(doc, config)


def summary_if_current(
    report_path: str | Path, source: str | Path, config: Mapping[str, Any] | None = None
) -> str | None:
    """The summary of the last ingest when it is current (newer than the source), else None.

    A run that will not read its data again starts by showing what was read
    before; a run that will read it shows the new summary once it is read.
    """
    from stratopt.runtime.config_checks import current_ingest

    doc = current_ingest(report_path, source)
    return None if doc is None else format_summary(doc, config)
