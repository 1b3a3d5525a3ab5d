"""What ingest understood, in one screen: the summary of ingest.json for the terminal and the log."""

from __future__ import annotations

import json
import os
from pathlib import Path

from stratopt.data.ingest import ingest
from stratopt.data.ingest_summary import (
    SHOWN_WARNINGS,
    format_summary,
    read_summary,
    summary_if_current,
)

HEADER = "Date,Day,SENSEX 1000-1100 SL7%,SENSEX 1000-1100 SL8%,SENSEX 1100-1200 SL9%\n"


def _ingest(tmp_path: Path, source: Path) -> dict:
    ingest(source, tmp_path / "matrix.parquet", tmp_path / "ingest.json")
    return json.loads((tmp_path / "ingest.json").read_text())


def test_the_real_sample_in_one_screen(real_sample_csv: Path, tmp_path: Path) -> None:
    doc = _ingest(tmp_path, real_sample_csv)
    text = format_summary(doc)
    lines = text.splitlines()
    assert lines[0] == f"What stratopt read from {real_sample_csv} (758,865 bytes)"
    assert "  sessions (rows)    82, 2024-01-04 .. 2025-07-21" in lines
    # the weekdays the data README counts, most frequent first
    assert "  weekdays           Thursday 46, Monday 27, Wednesday 7, Friday 2" in lines
    assert "  strategies         500" in lines
    assert f"  periods per year   {doc['periods_per_year']:.1f} " in text
    assert "  blank cells        none" in lines and "  warnings           none" in lines
    assert len(lines) <= 24 and max(map(len, lines)) <= 160  # one screen
    assert read_summary(tmp_path / "ingest.json") == text
    # a date range: how many sessions the run will use
    ranged = format_summary(doc, {"date_range": {"start": "2025-01-01", "end": None}})
    kept = sum(d >= "2025-01-01" for d in doc["dates"])
    assert f"  sessions used      {kept} of 82 (2025-01-02 .. 2025-07-21; " in ranged


def test_blanks_and_warnings_are_counted_and_cut(tmp_path: Path) -> None:
    rows = [f"2024-01-{d:02d},Thursday,1,,{'' if d % 2 else 3}" for d in range(1, 29)]
    src = tmp_path / "blanks.csv"
    src.write_text(HEADER + "\n".join(rows) + "\n")
    doc = _ingest(tmp_path, src)
    text = format_summary(doc)
    assert "  blank cells        42 cells in 2 strategies, read as 0" in text
    assert f"  warnings           {len(doc['warnings'])}:" in text
    # many warnings: the first few in full, the rest counted
    doc["warnings"] = [f"warning {i} " + "x" * 300 for i in range(SHOWN_WARNINGS + 5)]
    lines = format_summary(doc).splitlines()
    assert sum(line.startswith("    - warning") for line in lines) == SHOWN_WARNINGS
    assert lines[-1] == "    ... and 5 more in ingest.json"
    assert max(map(len, lines)) <= 160


def test_a_folder_names_its_files(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("north", "south"):
        (folder / f"{name}.csv").write_text(
            HEADER + "2024-01-04,Thursday,1,2,3\n2024-01-11,Thursday,4,5,6\n"
        )
    doc = _ingest(tmp_path, folder)
    first = format_summary(doc).splitlines()[0]
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert (
        first
        == f"What stratopt read from 2 files in {folder} ({total:,} bytes): north.csv, south.csv"
    )
    assert "  strategies         6" in format_summary(doc)


def test_the_last_summary_is_shown_only_while_current(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text(HEADER + "2024-01-04,Thursday,1,2,3\n2024-01-11,Monday,4,5,6\n")
    _ingest(tmp_path, src)
    report = tmp_path / "ingest.json"
    os.utime(src, (1_000, 1_000))
    os.utime(report, (2_000, 2_000))
    assert summary_if_current(report, src) == read_summary(report)
    os.utime(src, (3_000, 3_000))  # changed since: ingest will read it and show it then
    assert summary_if_current(report, src) is None
    assert summary_if_current(tmp_path / "none.json", src) is None
