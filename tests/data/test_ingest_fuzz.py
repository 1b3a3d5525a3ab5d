"""Property-based fuzzing of ingest: generated CSV/XLSX bytes against a plain reference reader.

Properties, for any bytes:
- ingest either returns a matrix or raises InputError naming the file (and a
  line and a column that exist); never another exception;
- what it accepts equals what the reference reader below makes of the same
  bytes (csv module + float(), the rules of docs/ingest.md), bit for bit;
- a well-formed file (quotes, BOM, CRLF, blanks, number spellings, any
  Unicode names) is always accepted.

A short run is part of the normal test run. A long run: `make fuzz SECONDS=600`
(STRATOPT_FUZZ_EXAMPLES sets the examples per test and per round).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import math
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from stratopt.data.csv_text import MAX_ABS_PNL, MISSING
from stratopt.data.ingest import MIN_SESSIONS, read_source
from stratopt.errors import InputError

EXAMPLES = int(os.environ.get("STRATOPT_FUZZ_EXAMPLES", "0"))


def fuzz_settings(ci_examples: int) -> settings:
    """A few fixed examples in the normal test run (reproducible); random ones in a long run."""
    return settings(
        max_examples=EXAMPLES or ci_examples,
        deadline=None,
        derandomize=not EXAMPLES,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
        database=None if not EXAMPLES else settings.default.database,
    )


_COUNTER = itertools.count()


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _file(folder: Path, data: bytes, suffix: str = ".csv") -> Path:
    path = folder / f"case{next(_COUNTER)}{suffix}"
    path.write_bytes(data)
    return path


# ------------------------------------------------------------------ the reference reader


def reference(data: bytes) -> tuple[list[str], list[str], list[str], np.ndarray] | None:
    """(names, dates, days, values) as docs/ingest.md says, or None where it refuses."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = [ln[:-1] if ln.endswith(b"\r") else ln for ln in data.split(b"\n")]
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 1 + MIN_SESSIONS:
        return None
    try:
        rows = [next(csv.reader([ln.decode()], strict=True)) for ln in lines]
    except (csv.Error, StopIteration):
        return None
    header = rows[0]
    lowered = [h.strip().lower() for h in header]
    if lowered.count("date") != 1 or lowered.count("day") > 1 or "zone" in lowered:
        return None
    strat = [i for i, h in enumerate(lowered) if h not in ("date", "day")]
    names = [header[i] for i in strat]
    if not names or any(not n.strip() for n in names) or len(set(names)) < len(names):
        return None
    d, day = lowered.index("date"), lowered.index("day") if "day" in lowered else None
    dates, days, values = [], [], []
    for row in rows[1:]:
        if len(row) != len(header):
            return None
        text = row[d].strip()
        try:
            if len(text) != 10 or text[4] != "-" or text[7] != "-" or not text.isascii():
                return None
            dates.append(dt.date.fromisoformat(text))
        except ValueError:
            return None
        days.append(row[day].strip() if day is not None else "")
        out = []
        for i in strat:
            cell = row[i].strip()
            if cell.lower() in MISSING:
                out.append(0.0)
                continue
            try:
                x = float(cell)
            except ValueError:
                return None
            if not abs(x) <= MAX_ABS_PNL:
                return None
            out.append(x)
        values.append(out)
    if any(b <= a for a, b in itertools.pairwise(dates)):
        return None
    return names, [str(x) for x in dates], days, np.array(values, dtype=np.float64)


def check(path: Path, data: bytes, *, must_accept: bool = False) -> None:
    """The properties above, for the bytes `data` in the file `path`."""
    want = reference(data)
    try:
        matrix, _ = read_source(path)
    except InputError as err:
        assert not must_accept, f"refused a well-formed file: {err}"
        assert err.path == str(path)
        n_lines = data.count(b"\n") + 1
        assert err.line is None or 1 <= err.line <= n_lines + 1, err
        if err.column is not None:
            raw = data.removeprefix(b"\xef\xbb\xbf").split(b"\n", 1)[0].rstrip(b"\r")
            header = raw.decode("utf-8", "replace")
            try:
                names = next(csv.reader([header]), [])
            except csv.Error:
                names = []
            assert err.column in names or err.column in header, err
        return
    assert want is not None, "accepted bytes the reference refuses"
    names, dates, days, values = want
    assert matrix.names == names
    assert [str(x) for x in matrix.dates] == dates
    assert matrix.days == days
    assert matrix.values.shape == values.shape
    assert np.array_equal(matrix.values.view(np.int64), values.view(np.int64))  # bit for bit


# ------------------------------------------------------------------ well-formed files

META = {"date", "day", "zone"}
names_st = st.text(
    st.characters(exclude_characters="\n\r\x00", exclude_categories=("Cs",)),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip() and s.strip().lower() not in META)


@st.composite
def numbers(draw: st.DrawFn) -> str:
    x = draw(st.floats(min_value=-MAX_ABS_PNL, max_value=MAX_ABS_PNL, allow_nan=False))
    spelling = draw(st.sampled_from(["repr", "fixed", "exp", "g17", "int", "blank", "word"]))
    if spelling == "blank":
        return draw(st.sampled_from(["", "NaN", "nan", "NA", "null", "None", "N/A"]))
    if spelling == "word":
        return draw(st.sampled_from(["0", "-0", "+1", ".5", "5.", "1e3", "-1E-3", "0.000"]))
    text = {
        "repr": repr(x),
        "fixed": f"{x:.4f}",
        "exp": f"{x:e}",
        "g17": f"{x:.17g}",
        "int": str(int(x)) if abs(x) < 1e15 else repr(x),
    }[spelling]
    pad = draw(st.sampled_from(["", " ", "  ", "\t"]))
    return pad + text + draw(st.sampled_from(["", " "]))


@st.composite
def tables(draw: st.DrawFn, max_strategies: int = 6, max_rows: int = 8) -> bytes:
    n = draw(st.integers(1, max_strategies))
    t = draw(st.integers(MIN_SESSIONS, max_rows))
    names = draw(st.lists(names_st, min_size=n, max_size=n, unique=True))
    start = draw(st.dates(dt.date(1000, 1, 1), dt.date(9000, 1, 1)))
    gaps = draw(st.lists(st.integers(1, 400), min_size=t, max_size=t))
    dates = [start + dt.timedelta(days=sum(gaps[: i + 1])) for i in range(t)]
    day_col = draw(st.booleans())
    days = draw(st.lists(names_st, min_size=t, max_size=t)) if day_col else []
    header = ["Date", *(["Day"] if day_col else []), *names]
    rows = [
        [
            d.isoformat(),
            *([days[i]] if day_col else []),
            *draw(st.lists(numbers(), min_size=n, max_size=n)),
        ]
        for i, d in enumerate(dates)
    ]
    order = draw(st.permutations(range(len(header))))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    buf = io.StringIO()
    writer = csv.writer(buf, quoting=quoting, lineterminator=eol)
    for row in [header, *rows]:
        writer.writerow([row[i] for i in order])
    text = buf.getvalue() + draw(st.sampled_from(["", eol, eol + eol, "  " + eol]))
    return draw(st.sampled_from([b"", b"\xef\xbb\xbf"])) + text.encode()


@fuzz_settings(40)
@given(data=tables())
def test_well_formed_csv_is_read_exactly(folder: Path, data: bytes) -> None:
    check(_file(folder, data), data, must_accept=True)


# ------------------------------------------------------------------ damaged files


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    """A well-formed table, then a few byte edits of the kinds real files suffer."""
    data = bytearray(draw(tables(max_strategies=4, max_rows=5)))
    pieces = [
        b'"',
        b",",
        b"\n",
        b"\r",
        b";",
        b"\t",
        b"\x00",
        b"\xff",
        b"\xe9",
        b"1e308",
        b" ",
        b"-",
    ]
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(st.sampled_from(pieces) | st.binary(min_size=1, max_size=3))
        if action == "insert":
            data[pos:pos] = piece
        elif action == "delete":
            data[pos : pos + len(piece)] = b""
        else:
            data[pos : pos + 1] = piece
    return bytes(data)


@fuzz_settings(60)
@given(data=damaged())
def test_damaged_csv_is_refused_with_a_location_or_read_exactly(folder: Path, data: bytes) -> None:
    check(_file(folder, data), data)


@fuzz_settings(40)
@given(
    data=st.one_of(
        st.binary(max_size=64),
        st.text(max_size=64).map(lambda s: s.encode()),
        st.sampled_from([b"", b"\n", b"Date", b"Date\n", b"Date,S\n", b"\xef\xbb\xbf"]),
    )
)
def test_tiny_and_random_bytes(folder: Path, data: bytes) -> None:
    check(_file(folder, data), data)


@fuzz_settings(15)
@given(
    data=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "cp1252", "utf-16"]),
)
def test_other_encodings(folder: Path, data: str, encoding: str) -> None:
    text = f"Date,Day,{data.replace(chr(10), ' ')}\n2024-01-04,Thursday,1\n2024-01-05,Friday,2\n"
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
    check(_file(folder, raw), raw)


@fuzz_settings(5)
@given(table=tables(max_strategies=3, max_rows=3), copies=st.integers(500, 2500))
def test_huge_files(folder: Path, table: bytes, copies: int) -> None:
    """Thousands of columns: the header is long, every row is long, the reading stays exact."""
    rows = list(csv.reader(io.StringIO(table.decode("utf-8-sig"), newline="")))
    while rows and not "".join(rows[-1]).strip():
        rows.pop()  # the trailing blank lines tables() may add
    header = rows[0]
    meta = {i for i, h in enumerate(header) if h.strip().lower() in META}
    wide = [
        [c for i, c in enumerate(r) if i in meta]
        + [
            f"{c}#{k}" if j == 0 else c
            for k in range(copies)
            for i, c in enumerate(r)
            if i not in meta
        ]
        for j, r in enumerate(rows)
    ]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(wide)
    data = buf.getvalue().encode()
    check(_file(folder, data), data, must_accept=True)


# ------------------------------------------------------------------ XLSX


cells = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True, width=64),
    st.integers(-(10**16), 10**16),
    st.text(max_size=8),
    st.dates(dt.date(1950, 1, 1), dt.date(2100, 1, 1)),
)


@fuzz_settings(15)
@given(
    names=st.lists(names_st, min_size=1, max_size=4, unique=True),
    body=st.lists(st.lists(cells, min_size=6, max_size=6), min_size=1, max_size=5),
    sorted_dates=st.booleans(),
)
def test_xlsx_cells(
    folder: Path, names: list[str], body: list[list[object]], sorted_dates: bool
) -> None:
    from openpyxl import Workbook, load_workbook

    book = Workbook()
    sheet = book.active
    buf = io.BytesIO()
    try:
        sheet.append(["Date", "Day", *names])
        for i, row in enumerate(body):
            first = dt.date(2024, 1, 1) + dt.timedelta(days=i) if sorted_dates else row[0]
            sheet.append([first, "Monday", *row[1 : 1 + len(names)]])
        book.save(buf)
    except Exception:  # noqa: BLE001 - openpyxl refuses some cell values itself
        assume(False)
    path = _file(folder, buf.getvalue(), ".xlsx")
    try:
        matrix, _ = read_source(path)
    except InputError as err:
        assert err.path == str(path)
        assert err.line is None or 1 <= err.line <= len(body) + 2
        return
    assert matrix.n_days == len(body) and matrix.names == names
    assert np.all(np.abs(matrix.values) <= MAX_ABS_PNL)
    # the cells as the workbook holds them (the writer may round a float's last digit)
    stored = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    for t, row in enumerate(stored[1:]):
        for j in range(len(names)):
            cell = row[2 + j]
            want = 0.0 if cell is None or (isinstance(cell, float) and math.isnan(cell)) else cell
            assert matrix.values[t, j] == float(want)  # type: ignore[arg-type]
