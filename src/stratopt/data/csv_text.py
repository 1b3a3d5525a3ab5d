"""The CSV text of a daily P&L file -> a validated Matrix, every problem located.

The production file is 82 rows x 25,546 columns with a 1.3 MB header, a shape
that defeats general CSV readers (pandas 1.3-4 s, DuckDB 25-45 s, pyarrow's
reader fails at its default block size). Here the header is parsed with the
csv module, each row is split once, and all numeric fields are converted in a
single Arrow cast (correctly rounded, like strtod), which takes about 0.3 s on
the production shape. Anything unusual (quotes in a data row, a cell that does
not parse) falls back to a slow path whose only job is to say exactly where
the problem is. docs/ingest.md has the measurements. MISSING and
FIRST_DATA_LINE are shared with the zone reader (stratopt.data.zone_ingest).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from stratopt.data import arrow_columns as cols
from stratopt.data.ingest_report import IngestReport
from stratopt.data.matrix import Matrix
from stratopt.errors import InputError

META_COLUMNS = ("date", "day")
MISSING = {"", "nan", "na", "n/a", "null", "none"}
CSV_SUFFIXES = {".csv", ".txt"}
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
FIRST_DATA_LINE = 2  # line numbers are 1-based; the header is line 1
#: The largest |P&L| a cell may hold. Later stages sum T cells and square them
#: (variance, correlation); below 1e15 nothing overflows to inf or NaN, while
#: 1e308 (finite) made every fitness NaN. 1e15 rupees is far above any real P&L.
MAX_ABS_PNL = 1e15


def _decode_header(raw: bytes, path: Path) -> list[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(path, f"header is not UTF-8 text ({exc.reason})", line=1) from exc
    if text.count('"') % 2:
        raise InputError(path, "unterminated quote in the header", line=1)
    try:
        header = next(csv.reader(io.StringIO(text), strict=True), [])
    except csv.Error as exc:
        raise InputError(path, f"malformed header ({exc})", line=1, expected="CSV") from None
    if not header:
        raise InputError(path, "empty header", line=1, expected="Date, Day, then strategies")
    return header


def _check_utf8(data: bytes, path: Path) -> None:
    """Refuse bytes that are not UTF-8, naming the line and column of the first one."""
    if data.isascii():  # the common case, and much faster than decoding
        return
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        start = data.rfind(b"\n", 0, exc.start) + 1
        line = data.count(b"\n", 0, exc.start) + 1
        header = data[: data.find(b"\n")] if b"\n" in data else data
        names = _header_fields(header)
        column = None
        if line > 1:
            field_no = len(_header_fields(data[start : exc.start])) - 1 if exc.start > start else 0
            column = names[field_no] if 0 <= field_no < len(names) else None
        raise InputError(
            path,
            f"byte 0x{data[exc.start]:02x} is not UTF-8 text ({exc.reason})",
            line=line,
            column=column,
            expected="a UTF-8 (or ASCII) CSV file",
        ) from None


def _header_fields(raw: bytes) -> list[str]:
    """The header's names as far as they decode (for naming a column in an error)."""
    text = raw.decode("utf-8", errors="replace").removeprefix("\ufeff").rstrip("\r")
    try:
        return next(csv.reader([text]), [])
    except csv.Error:
        return []


def _split_lines(data: bytes, path: Path) -> list[bytes]:
    if b"\x00" in data[:65536]:
        raise InputError(path, "not a CSV text file (binary content)", expected="CSV or XLSX")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    _check_utf8(data, path)
    lines = data.split(b"\n")
    lines = [line[:-1] if line.endswith(b"\r") else line for line in lines]
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def _column_roles(header: list[str], path: Path) -> tuple[int, int | None, list[int]]:
    """Positions of Date, Day and the strategy columns."""
    lowered = [h.strip().lower() for h in header]
    if "date" not in lowered:
        if len(header) == 1 and any(sep in header[0] for sep in ";\t|"):
            raise InputError(
                path,
                "the header is a single column: the file is not comma-separated",
                line=1,
                expected="commas between fields (a CSV file)",
            )
        raise InputError(
            path, "no Date column in the header", line=1, expected="a column named Date"
        )
    for meta in META_COLUMNS:
        where = [i for i, h in enumerate(lowered) if h == meta]
        if len(where) > 1:
            raise InputError(
                path,
                f"{len(where)} columns named {meta!r} (case aside), columns "
                + " and ".join(str(i + 1) for i in where)
                + ": a strategy may not be named like the Date or Day column",
                line=1,
                column=header[where[1]],
                expected=f"one {meta.capitalize()} column",
            )
    if "zone" in lowered:
        raise InputError(
            path,
            "a Zone column: zone files are read by stratopt.data.zones, not by ingest",
            line=1,
            column=header[lowered.index("zone")],
        )
    date_col = lowered.index("date")
    day_col = lowered.index("day") if "day" in lowered else None
    strategy_cols = [i for i, h in enumerate(lowered) if h not in META_COLUMNS]
    if not strategy_cols:
        raise InputError(path, "no strategy columns", line=1, expected="Date, Day, then strategies")
    return date_col, day_col, strategy_cols


def check_names(names: list[str], path: Path) -> None:
    seen: dict[str, int] = {}
    for pos, name in enumerate(names):
        if not name.strip():
            raise InputError(path, f"strategy column {pos + 1} has an empty name", line=1)
        if name in seen:
            raise InputError(
                path,
                f"duplicate strategy name (columns {seen[name] + 1} and {pos + 1})",
                line=1,
                column=name,
            )
        seen[name] = pos


def _fields(line: bytes, lineno: int, width: int, path: Path) -> list[bytes]:
    """All fields of one data row (the csv module only where quotes appear)."""
    if b'"' in line:
        text = line.decode("utf-8")  # valid: the file was checked as a whole
        try:
            fields = [f.encode() for f in next(csv.reader(io.StringIO(text), strict=True))]
        except csv.Error as exc:
            raise InputError(
                path, f"malformed quoting ({exc})", line=lineno, expected="CSV quoting"
            ) from None
    else:
        fields = line.split(b",")
    if len(fields) != width:
        raise InputError(
            path,
            f"row has {len(fields)} fields, the header has {width}",
            line=lineno,
            expected=f"{width} comma-separated fields",
        )
    return fields


def _parse_date(text: str, lineno: int, column: str, path: Path) -> np.datetime64:
    text = text.strip()
    if not ISO_DATE.match(text):
        raise InputError(
            path, f"unparseable date {text!r}", line=lineno, column=column, expected="YYYY-MM-DD"
        )
    try:
        return np.datetime64(text, "D")
    except ValueError as exc:
        raise InputError(
            path, f"invalid date {text!r}", line=lineno, column=column, expected="YYYY-MM-DD"
        ) from exc


def _check_dates(dates: np.ndarray, first_line: int, column: str, path: Path) -> None:
    for i in range(1, len(dates)):
        if dates[i] == dates[i - 1]:
            raise InputError(path, f"duplicate date {dates[i]}", line=first_line + i, column=column)
        if dates[i] < dates[i - 1]:
            raise InputError(
                path,
                f"dates not in ascending order ({dates[i]} after {dates[i - 1]})",
                line=first_line + i,
                column=column,
            )


@dataclass
class _Rows:
    """Data rows split into their leading fields and their numeric text."""

    dates: list[np.datetime64] = field(default_factory=list)
    days: list[str] = field(default_factory=list)
    numeric: list[bytes] = field(default_factory=list)  # per row: the strategy cells, comma-joined


def _split_rows(
    rows: list[bytes], header: list[str], roles: tuple[int, int | None, list[int]], path: Path
) -> _Rows:
    date_col, day_col, strategy_cols = roles
    width = len(header)
    tail = strategy_cols == list(range(width - len(strategy_cols), width))
    lead = width - len(strategy_cols)
    out = _Rows()
    for offset, line in enumerate(rows):
        lineno = FIRST_DATA_LINE + offset
        if b"\r" in line:  # the line's own CR is gone: this one is inside it (found by fuzzing)
            raise InputError(
                path,
                "a carriage return inside the line (mixed line endings?)",
                line=lineno,
                expected="lines ending in LF or CRLF",
            )
        if tail and b'"' not in line:
            if line.count(b",") != width - 1:
                _fields(line, lineno, width, path)  # raises with the field count
            parts = line.split(b",", lead)
            meta, numeric = parts[:lead], parts[lead]
        else:
            fields = _fields(line, lineno, width, path)
            meta = fields
            for i in strategy_cols:
                if b"," in fields[i]:
                    raise InputError(
                        path,
                        f"a number with a comma {fields[i].decode()!r}: thousands separators "
                        "and decimal commas are not read",
                        line=lineno,
                        column=header[i],
                        expected="a number like 1234.5",
                    )
            numeric = b",".join(fields[i] for i in strategy_cols)
        out.dates.append(_parse_date(meta[date_col].decode(), lineno, header[date_col], path))
        out.days.append(meta[day_col].decode().strip() if day_col is not None else "")
        out.numeric.append(numeric)
    return out


def _to_float(
    numeric: list[bytes], names: list[str], path: Path, report: IngestReport
) -> np.ndarray:
    """All numeric cells in one Arrow cast; blanks become 0, counted per column.

    Consumes `numeric` (emptied once joined: the rows' text is as large as the
    file, and every copy of it adds to the stage's peak memory)."""
    t, n = len(numeric), len(names)
    spaced = any(b" " in row or b"\t" in row for row in numeric)
    joined = cols.one_blob(b",".join(numeric))
    numeric.clear()
    cells = pc.cast(pc.split_pattern(joined, b",").flatten(), pa.large_string())
    del joined
    if spaced:
        cells = pc.utf8_trim_whitespace(cells)
    blanks_read = False
    try:
        values = cols.float_values(pc.cast(cells, pa.float64()))
    except pa.ArrowInvalid:
        values = _to_float_with_blanks(cells, t, names, path, report)
        blanks_read = True
    values = values.reshape(t, n)
    bad = ~(np.abs(values) <= MAX_ABS_PNL)  # NaN and inf are not <= anything
    if bad.any() and not blanks_read and np.isnan(values[bad]).any():
        # the cast read a "NaN" text as NaN: it is a blank cell (found by the fuzz tests)
        values = _to_float_with_blanks(cells, t, names, path, report).reshape(t, n)
        bad = ~(np.abs(values) <= MAX_ABS_PNL)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        cell = cells[int(row) * n + int(col)].as_py()
        finite = bool(np.isfinite(values[row, col]))
        raise InputError(
            path,
            f"{'implausibly large' if finite else 'non-finite'} value {cell!r}",
            line=FIRST_DATA_LINE + int(row),
            column=names[col],
            expected=f"a finite number of magnitude at most {MAX_ABS_PNL:.0e}",
        )
    return values


def _to_float_with_blanks(
    cells: pa.Array, t: int, names: list[str], path: Path, report: IngestReport
) -> np.ndarray:
    """The slow path: blanks to 0 with a warning per column, or the first bad cell named."""
    n = len(names)
    missing = pc.is_in(pc.utf8_lower(cells), value_set=pa.array(sorted(MISSING)))
    missing_np = np.asarray(missing.to_pylist(), dtype=bool).reshape(t, n)
    per_column = missing_np.sum(axis=0)
    for j in np.flatnonzero(per_column):
        report.blank_cells[names[j]] = int(per_column[j])
        report.warn(f"{path}: column {names[j]!r}: {per_column[j]} blank cell(s) read as 0")
    filled = pc.if_else(missing, pa.scalar("0", pa.large_string()), cells)
    try:
        return cols.float_values(pc.cast(filled, pa.float64()))
    except pa.ArrowInvalid:
        pass
    for flat_index, cell in enumerate(filled.to_pylist()):
        try:
            pc.cast(pa.array([cell]), pa.float64())
        except pa.ArrowInvalid:
            row, col = divmod(flat_index, n)
            raise InputError(
                path,
                f"non-numeric cell {cell!r}",
                line=FIRST_DATA_LINE + row,
                column=names[col],
                expected="a number",
            ) from None
    raise AssertionError("Arrow rejected the column but accepted every cell")


def read_csv(path: Path, report: IngestReport) -> Matrix:
    return parse_csv(read_bytes(path), path, report)


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise InputError(path, "a folder, not a file", expected="a .csv or .xlsx file") from None
    except OSError as exc:
        raise InputError(path, f"cannot read: {exc.strerror or exc}") from None


def parse_csv(data: bytes, path: Path, report: IngestReport) -> Matrix:
    """The CSV bytes `data`, named `path` in errors."""
    if not data or data.isspace():
        raise InputError(path, "empty file", expected="a header row and data rows")
    lines = _split_lines(data, path)
    if not lines:  # a byte-order mark and blank lines
        raise InputError(path, "empty file", expected="a header row and data rows")
    del data  # each copy of the file's text adds to the peak: drop them as they are used
    header = _decode_header(lines[0], path)
    roles = _column_roles(header, path)
    names = [header[i] for i in roles[2]]
    check_names(names, path)
    if len(lines) < 2:
        raise InputError(path, "no data rows", line=2, expected="at least one row of P&L")
    body = lines[1:]
    del lines
    rows = _split_rows(body, header, roles, path)
    del body
    dates = np.array(rows.dates, dtype="datetime64[D]")
    _check_dates(dates, FIRST_DATA_LINE, header[roles[0]], path)
    values = _to_float(rows.numeric, names, path, report)
    return Matrix(dates=dates, days=rows.days, names=names, values=values)
