"""Ingest of zone files: rows (Date, Zone, Day, strategies...) -> matrix.parquet with zones.

A zone file splits each date's P&L into intraday zones, one row per (date,
zone) (../shared/docs/legacy-semantics.md, "Zone mode"). Rows of the zones
"Outside Market", "nan" and "" (case-insensitive) are dropped; the rest are
summed per (date, zone) into M[d, z, s], zones in sorted order, a missing
(date, zone) pair 0. matrix.parquet then holds the day's total over the kept
zones as its plain `pnl` and M as `zone_pnl` (stratopt.data.zone_matrix), so that
every later stage reads it like any other matrix; zone mode (config
`zone.enabled`) weights the zones in the prepare stage (docs/zones.md).

Like the daily reader (stratopt.data.ingest), the numbers are converted in one
Arrow cast, blanks become 0 with a warning per column, and anything that does
not parse is reported with its file, line and column. stratopt.data.ingest.ingest
hands a file here when its header has a Zone column.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stratopt import contracts
from stratopt.data import arrow_columns as cols
from stratopt.data.csv_text import CSV_SUFFIXES, FIRST_DATA_LINE, MISSING  # as the daily reader
from stratopt.data.ingest_report import IngestReport, source_record
from stratopt.data.matrix import Matrix
from stratopt.data.zone_matrix import write_zone_matrix
from stratopt.data.zones import DROPPED_ZONES
from stratopt.errors import InputError
from stratopt.runtime.atomic import atomic_path, write_json

log = logging.getLogger(__name__)

LEADING = ("date", "zone", "day")
SUFFIXES = CSV_SUFFIXES


@dataclass
class _Notes:
    warnings: list[str] = field(default_factory=list)
    blank_cells: dict[str, int] = field(default_factory=dict)


@dataclass
class ZoneFile:
    """What a zone file holds, and what reading it found."""

    matrix: Matrix  # the day totals over the kept zones (D x S)
    zones: list[str]  # sorted
    values: np.ndarray  # M, D x Z x S
    rows: int = 0  # data rows read
    dropped_rows: int = 0  # rows of the dropped zones
    warnings: list[str] = field(default_factory=list)
    blank_cells: dict[str, int] = field(default_factory=dict)


def _header_line(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.readline().rstrip(b"\r\n").removeprefix(b"\xef\xbb\xbf")


def _header(raw: bytes, path: Path) -> list[str]:
    try:
        return next(csv.reader([raw.decode("utf-8")]))
    except (UnicodeDecodeError, StopIteration, csv.Error) as exc:
        raise InputError(path, f"unreadable header ({exc})", line=1) from exc


def is_zone_file(source: str | Path) -> bool:
    """A CSV file whose header has a Zone column (a folder never is: one file per run)."""
    path = Path(source)
    if not path.is_file() or path.suffix.lower() not in SUFFIXES:
        return False
    try:
        header = _header(_header_line(path), path)
    except InputError:
        return False  # not readable as a zone file: the daily reader names the problem
    return any(h.strip().lower() == "zone" for h in header)


def _roles(header: list[str], path: Path) -> tuple[int, int, int | None, list[int]]:
    lowered = [h.strip().lower() for h in header]
    for needed in ("date", "zone"):
        if needed not in lowered:
            raise InputError(
                path, f"no {needed.title()} column", line=1, expected="Date, Zone, Day, strategies"
            )
    strategy = [i for i, h in enumerate(lowered) if h not in LEADING]
    if not strategy:
        raise InputError(
            path, "no strategy columns", line=1, expected="Date, Zone, Day, strategies"
        )
    names = [header[i] for i in strategy]
    seen: dict[str, int] = {}
    for pos, name in enumerate(names):
        if not name.strip():
            raise InputError(path, f"strategy column {pos + 1} has an empty name", line=1)
        if name in seen:
            raise InputError(path, "duplicate strategy name", line=1, column=name)
        seen[name] = pos
    day = lowered.index("day") if "day" in lowered else None
    return lowered.index("date"), lowered.index("zone"), day, strategy


def _split(line: bytes, lineno: int, width: int, path: Path) -> list[bytes]:
    if b'"' in line:
        fields = [f.encode() for f in next(csv.reader([line.decode("utf-8", "replace")]))]
    else:
        fields = line.split(b",")
    if len(fields) != width:
        raise InputError(path, f"row has {len(fields)} fields, the header has {width}", line=lineno)
    return fields


def _date(text: str, lineno: int, column: str, path: Path) -> np.datetime64:
    try:
        if len(text) != 10:
            raise ValueError(text)
        return np.datetime64(text, "D")
    except ValueError:
        raise InputError(
            path, f"unparseable date {text!r}", line=lineno, column=column, expected="YYYY-MM-DD"
        ) from None


def _numbers(
    numeric: list[bytes], names: list[str], lines: list[int], path: Path, notes: _Notes
) -> np.ndarray:
    """Every strategy cell of the kept rows in one Arrow cast (rows x strategies)."""
    t, n = len(numeric), len(names)
    if t == 0:
        return np.zeros((0, n))
    joined = cols.one_blob(b",".join(numeric))
    cells = pc.utf8_trim_whitespace(
        pc.cast(pc.split_pattern(joined, b",").flatten(), pa.large_string())
    )
    missing = np.asarray(
        pc.is_in(pc.utf8_lower(cells), value_set=pa.array(sorted(MISSING))).to_pylist(), dtype=bool
    ).reshape(t, n)
    for j in np.flatnonzero(missing.sum(axis=0)):
        count = int(missing[:, j].sum())
        notes.blank_cells[names[j]] = count
        notes.warnings.append(f"{path}: column {names[j]!r}: {count} blank cell(s) read as 0")
    filled = pc.if_else(pa.array(missing.ravel()), pa.scalar("0", pa.large_string()), cells)
    try:
        values = pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False).reshape(t, n)
    except pa.ArrowInvalid:
        for flat, cell in enumerate(filled.to_pylist()):
            try:
                float(cell)
            except ValueError:
                row, col = divmod(flat, n)
                raise InputError(
                    path, f"non-numeric cell {cell!r}", line=lines[row], column=names[col]
                ) from None
        raise
    if not np.isfinite(values).all():
        row, col = (int(v) for v in np.argwhere(~np.isfinite(values))[0])
        raise InputError(
            path,
            f"non-finite value {values[row, col]!r}",
            line=lines[row],
            column=names[col],
            expected="a finite number",
        )
    return values


def read_zone_csv(path: str | Path) -> ZoneFile:
    """Read and validate a zone file; InputError names the file, line and column."""
    path = Path(path)
    data = path.read_bytes().removeprefix(b"\xef\xbb\xbf")
    lines = [line.removesuffix(b"\r") for line in data.split(b"\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise InputError(path, "empty file", expected="a header row and data rows")
    header = _header(lines[0], path)
    date_col, zone_col, day_col, strategy = _roles(header, path)
    names = [header[i] for i in strategy]
    width = len(header)
    dates, zones, days, numeric, kept_lines = [], [], [], [], []
    dropped = 0
    for offset, line in enumerate(lines[1:]):
        lineno = FIRST_DATA_LINE + offset
        fields = _split(line, lineno, width, path)
        zone = fields[zone_col].decode("utf-8", "replace").strip()
        if zone.lower() in DROPPED_ZONES:
            dropped += 1
            continue
        text = fields[date_col].decode("utf-8", "replace").strip()
        dates.append(_date(text, lineno, header[date_col], path))
        zones.append(zone)
        days.append(
            fields[day_col].decode("utf-8", "replace").strip() if day_col is not None else ""
        )
        numeric.append(b",".join(fields[i] for i in strategy))
        kept_lines.append(lineno)
    if not numeric:
        raise InputError(path, "no data rows outside the dropped zones", line=2)
    notes = _Notes()
    values = _numbers(numeric, names, kept_lines, path, notes)
    found = _assemble(
        names, np.array(dates, dtype="datetime64[D]"), zones, days, values, path, notes
    )
    found.rows, found.dropped_rows = len(lines) - 1, dropped
    return found


def _assemble(
    names: list[str],
    dates: np.ndarray,
    zones: list[str],
    days: list[str],
    values: np.ndarray,
    path: Path,
    notes: _Notes,
) -> ZoneFile:
    """Sum the rows per (date, zone) into M; the day name of each date from its first row."""
    uniq_dates = np.unique(dates)
    uniq_zones = sorted(set(zones))
    d_idx = np.searchsorted(uniq_dates, dates)
    lookup = {z: i for i, z in enumerate(uniq_zones)}
    z_idx = np.array([lookup[z] for z in zones], dtype=np.int64)
    m = np.zeros((len(uniq_dates), len(uniq_zones), len(names)), dtype=np.float64)
    np.add.at(m, (d_idx, z_idx), values)
    day_of: dict[int, str] = {}
    for di, day in zip(d_idx.tolist(), days, strict=True):
        if day_of.setdefault(di, day) != day:
            notes.warnings.append(
                f"{path}: date {uniq_dates[di]} is called both {day_of[di]!r} and {day!r}"
            )
    present = np.zeros((len(uniq_dates), len(uniq_zones)), dtype=bool)
    present[d_idx, z_idx] = True
    if not present.all():
        notes.warnings.append(
            f"{path}: {int((~present).sum())} (date, zone) pair(s) without a row read as 0"
        )
    for message in notes.warnings:
        log.warning(message)
    matrix = Matrix(
        dates=uniq_dates,
        days=[day_of[i] for i in range(len(uniq_dates))],
        names=names,
        values=np.ascontiguousarray(m.sum(axis=1)),  # the day's total over the kept zones
        labels=[path.stem] * len(names),  # the legacy's name prefix, as for daily files
    )
    return ZoneFile(matrix, uniq_zones, m, warnings=notes.warnings, blank_cells=notes.blank_cells)


def ingest_zones(
    source: str | Path, matrix_out: str | Path, report_out: str | Path | None = None
) -> Matrix:
    """A zone file -> matrix.parquet (with `zone_pnl`) and ingest.json, both or neither."""
    path = Path(source)
    found = read_zone_csv(path)
    report = IngestReport(warnings=list(found.warnings), blank_cells=dict(found.blank_cells))
    report.sources.append(source_record(path))
    doc: dict[str, Any] = {
        **report.to_dict(found.matrix),
        "zones": found.zones,
        "zone_rows": found.rows,
        "dropped_zone_rows": found.dropped_rows,
    }
    if report_out is None:
        write_zone_matrix(found.matrix, found.zones, found.values, matrix_out)
    else:
        # Both temporaries are complete before either replaces an earlier output.
        with atomic_path(matrix_out) as tmp_matrix, atomic_path(report_out) as tmp_report:
            write_zone_matrix(found.matrix, found.zones, found.values, tmp_matrix)
            write_json(tmp_report, contracts.INGEST.checked(doc))
    log.info(
        "ingested %d days x %d zones x %d strategies from %s (%d rows of dropped zones)",
        found.matrix.n_days,
        len(found.zones),
        found.matrix.n_strategies,
        source,
        found.dropped_rows,
    )
    return found.matrix
