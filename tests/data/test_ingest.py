"""Ingest: exact round trip on the real sample, and a clear error for each kind of bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stratopt.cli import main as cli_main
from stratopt.data.ingest import ingest, read_source
from stratopt.data.matrix import read_matrix
from stratopt.errors import InputError

HEADER = "Date,Day,SENSEX 1000-1100 SL7%,SENSEX 1000-1100 SL8%\n"
ROWS = "2024-01-04,Thursday,1.5,-2.25\n2024-01-08,Monday,0.125,3\n"


def write(tmp_path: Path, text: str | bytes, name: str = "in.csv") -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_real_sample_round_trips_bit_for_bit(real_sample_csv: Path, tmp_path: Path) -> None:
    out = tmp_path / "matrix.parquet"
    ingest(real_sample_csv, out, tmp_path / "ingest.json")
    expected = pd.read_csv(real_sample_csv)
    back = read_matrix(out)
    assert back.names == list(expected.columns[2:])
    assert back.values.dtype == np.float64 and back.values.shape == (82, 500)
    assert np.array_equal(back.values, expected.iloc[:, 2:].to_numpy(dtype=np.float64))
    assert [str(d) for d in back.dates] == list(expected["Date"])
    assert back.days == list(expected["Day"])
    # The values are also those Python's own float() gives each cell's text.
    first_row = real_sample_csv.read_text().splitlines()[1].split(",")[2:]
    assert back.values[0].tolist() == [float(x) for x in first_row]


def test_ingest_json_records_shape_dates_names_checksum(
    real_sample_csv: Path, tmp_path: Path
) -> None:
    ingest(real_sample_csv, tmp_path / "m.parquet", tmp_path / "ingest.json")
    report = json.loads((tmp_path / "ingest.json").read_text())
    assert report["rows"] == 82 and report["strategies"] == 500
    assert report["first_date"] == "2024-01-04" and report["last_date"] == "2025-07-21"
    assert len(report["names"]) == 500 and len(report["dates"]) == 82
    assert len(report["sources"][0]["sha256"]) == 64
    assert report["warnings"] == [] and report["blank_cells_total"] == 0
    assert 50 < report["periods_per_year"] < 55  # weekly sessions, not 252 trading days


def test_cli_ingest(tmp_path: Path) -> None:
    src = write(tmp_path, HEADER + ROWS)
    assert cli_main(["ingest", str(src), str(tmp_path / "out" / "matrix.parquet")]) == 0
    assert (tmp_path / "out" / "ingest.json").exists()
    assert read_matrix(tmp_path / "out" / "matrix.parquet").values.tolist() == [
        [1.5, -2.25],
        [0.125, 3.0],
    ]


def test_cli_reports_bad_input_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    src = write(tmp_path, HEADER + "2024-01-04,Thursday,1.5,abc\n")
    assert cli_main(["ingest", str(src), str(tmp_path / "m.parquet")]) == 2
    err = capsys.readouterr().err
    assert "line 2" in err and "SENSEX 1000-1100 SL8%" in err and "Traceback" not in err


def test_bom_crlf_and_quoted_names(tmp_path: Path) -> None:
    text = 'Date,Day,"Strat, with comma","say ""hi"""\r\n2024-01-04,Thursday,1,2\r\n2024-01-05,Friday,"3",4\r\n'
    src = write(tmp_path, b"\xef\xbb\xbf" + text.encode())
    matrix, _ = read_source(src)
    assert matrix.names == ["Strat, with comma", 'say "hi"']
    assert matrix.values.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert matrix.days == ["Thursday", "Friday"]


def test_blank_cells_become_zero_with_one_warning_per_column(tmp_path: Path) -> None:
    src = write(
        tmp_path,
        HEADER + "2024-01-04,Thursday,,-2\n2024-01-05,Friday,,NaN\n2024-01-08,Monday,1,2\n",
    )
    out = tmp_path / "m.parquet"
    ingest(src, out, tmp_path / "ingest.json")
    report = json.loads((tmp_path / "ingest.json").read_text())
    assert report["blank_cells"] == {"SENSEX 1000-1100 SL7%": 2, "SENSEX 1000-1100 SL8%": 1}
    assert report["blank_cells_total"] == 3 and len(report["warnings"]) == 2
    assert read_matrix(out).values.tolist() == [[0.0, -2.0], [0.0, 0.0], [1.0, 2.0]]


def test_folder_merges_on_date_with_prefixes_and_labels(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "Date,Day,A,B\n2024-01-04,Thursday,1,2\n2024-01-05,Friday,3,4\n", "north.csv")
    write(folder, "Date,Day,A\n2024-01-05,Friday,5\n2024-01-08,Monday,6\n", "south.csv")
    matrix, report = read_source(folder)
    assert matrix.names == ["north_A", "north_B", "south_A"]
    assert matrix.labels == ["north", "north", "south"]
    assert [str(d) for d in matrix.dates] == ["2024-01-04", "2024-01-05", "2024-01-08"]
    assert matrix.values.tolist() == [[1, 2, 0], [3, 4, 5], [0, 0, 6]]
    assert len(report.warnings) == 2 and len(report.sources) == 2


def test_xlsx_is_read_like_csv(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Date", "Day", "S1", "S2"])
    sheet.append(["2024-01-04", "Thursday", 1.25, -3])
    sheet.append(["2024-01-05", "Friday", 0.1, None])
    path = tmp_path / "in.xlsx"
    book.save(path)
    matrix, report = read_source(path)
    assert matrix.values.tolist() == [[1.25, -3.0], [0.1, 0.0]]
    assert report.blank_cells == {"S2": 1}


BAD_INPUTS = [
    ("empty", b"", "empty file", None, None),
    ("no_date", b"Day,S1\nThursday,1\n", "no Date column", 1, None),
    ("no_strategy", b"Date,Day\n2024-01-04,Thursday\n", "no strategy columns", 1, None),
    ("ragged", HEADER.encode() + b"2024-01-04,Thursday,1\n", "row has 3 fields", 2, None),
    (
        "non_numeric",
        HEADER.encode() + ROWS.encode() + b"2024-01-09,Tuesday,1,x1\n",
        "non-numeric cell 'x1'",
        4,
        "SENSEX 1000-1100 SL8%",
    ),
    (
        "duplicate_name",
        b"Date,Day,S1,S1\n2024-01-04,Thursday,1,2\n",
        "duplicate strategy name",
        1,
        "S1",
    ),
    (
        "duplicate_date",
        HEADER.encode() + b"2024-01-04,Thursday,1,2\n2024-01-04,Thursday,1,2\n",
        "duplicate date",
        3,
        "Date",
    ),
    ("bad_date", HEADER.encode() + b"04/01/2024,Thursday,1,2\n", "unparseable date", 2, "Date"),
    ("impossible_date", HEADER.encode() + b"2024-02-30,Friday,1,2\n", "invalid date", 2, "Date"),
    (
        "unsorted",
        HEADER.encode() + b"2024-01-05,Friday,1,2\n2024-01-04,Thursday,1,2\n",
        "not in ascending order",
        3,
        "Date",
    ),
    (
        "inf",
        HEADER.encode() + b"2024-01-04,Thursday,inf,2\n",
        "non-finite value 'inf'",
        2,
        "SENSEX 1000-1100 SL7%",
    ),
    (
        "minus_inf",
        HEADER.encode() + b"2024-01-04,Thursday,1,-Infinity\n",
        "non-finite value",
        2,
        "SENSEX 1000-1100 SL8%",
    ),
    ("binary", b"PK\x03\x04\x00\x00garbage", "binary content", None, None),
    ("no_rows", HEADER.encode(), "no data rows", 2, None),
    # issue 17: finite but overflowing values made every fitness NaN
    (
        "huge",
        HEADER.encode() + ROWS.encode() + b"2024-01-09,Tuesday,1e308,2\n",
        "implausibly large value '1e308'",
        4,
        "SENSEX 1000-1100 SL7%",
    ),
    (
        "non_utf8_number",
        HEADER.encode() + ROWS.encode() + b"2024-01-09,Tuesday,1\xff5,2\n",
        "byte 0xff is not UTF-8",
        4,
        "SENSEX 1000-1100 SL7%",
    ),
    (
        "non_utf8_day",
        HEADER.encode() + b"2024-01-04,Thurs\xe9day,1,2\n2024-01-05,Friday,1,2\n",
        "byte 0xe9 is not UTF-8",
        2,
        "Day",
    ),
    (
        "thousands_comma",
        HEADER.encode() + ROWS.encode() + b'2024-01-09,Tuesday,1,"1,234"\n',
        "a number with a comma '1,234'",
        4,
        "SENSEX 1000-1100 SL8%",
    ),
    (
        "strategy_named_date",
        b"Date,Day,S1,date\n2024-01-04,Thursday,1,2\n2024-01-05,Friday,1,2\n",
        "2 columns named 'date'",
        1,
        "date",
    ),
    (
        "strategy_named_day",
        b"Date,Day,S1,DAY\n2024-01-04,Thursday,1,2\n2024-01-05,Friday,1,2\n",
        "2 columns named 'day'",
        1,
        "DAY",
    ),
    ("one_row", HEADER.encode() + b"2024-01-04,Thursday,1,2\n", "1 data row", 3, None),
    ("semicolons", b"Date;Day;S1\n2024-01-04;Thursday;1\n", "not comma-separated", 1, None),
    ("bom_only", b"\xef\xbb\xbf\n \n", "empty file", None, None),
    ("cr_in_header", b"Date,\rDay,S1\n2024-01-04,1,2\n", "malformed header", 1, None),
    (
        "stray_cr",
        HEADER.encode() + b"2024-01-04,Thursday,1,2\r\n2024-01-05,Friday,1, 2\r \r\n",
        "carriage return inside the line",
        3,
        None,
    ),
]


@pytest.mark.parametrize(
    ("case", "content", "problem", "line", "column"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_is_named_and_nothing_is_written(
    tmp_path: Path, case: str, content: bytes, problem: str, line: int | None, column: str | None
) -> None:
    src = write(tmp_path, content)
    out, report = tmp_path / "out" / "matrix.parquet", tmp_path / "out" / "ingest.json"
    with pytest.raises(InputError) as info:
        ingest(src, out, report)
    err = info.value
    assert problem in str(err)
    assert err.path == str(src)
    assert err.line == line
    assert err.column == column
    assert not out.exists() and not report.exists()
    leftovers = list((tmp_path / "out").glob("*")) if (tmp_path / "out").exists() else []
    assert leftovers == []


def test_unsupported_file_type(tmp_path: Path) -> None:
    src = write(tmp_path, "{}", "data.json")
    with pytest.raises(InputError, match="unsupported file type '.json'"):
        read_source(src)


def test_failed_rerun_keeps_the_earlier_output(tmp_path: Path) -> None:
    out, report = tmp_path / "matrix.parquet", tmp_path / "ingest.json"
    ingest(write(tmp_path, HEADER + ROWS), out, report)
    before = out.read_bytes(), report.read_bytes()
    with pytest.raises(InputError):
        ingest(write(tmp_path, HEADER + "2024-01-04,Thursday,1,oops\n", "bad.csv"), out, report)
    assert (out.read_bytes(), report.read_bytes()) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bad.csv",
        "in.csv",
        "ingest.json",
        "matrix.parquet",
    ]


# ------------------------------------------------------------------ issue 17


def test_cli_refuses_to_overwrite_its_source(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    src = write(tmp_path, HEADER + ROWS)
    before = src.read_bytes()
    assert cli_main(["ingest", str(src), str(src)]) == 2
    assert cli_main(["ingest", str(src), str(tmp_path / "m.parquet"), "--report", str(src)]) == 2
    err = capsys.readouterr().err
    assert "would destroy the input" in err and "Traceback" not in err
    assert src.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_matrix_and_report_may_not_be_one_file(tmp_path: Path) -> None:
    src = write(tmp_path, HEADER + ROWS)
    with pytest.raises(InputError, match="the same file"):
        ingest(src, tmp_path / "x", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_a_folder_named_like_a_csv_inside_a_source_folder_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, HEADER + ROWS, "a.csv")
    (folder / "x.csv").mkdir()
    with pytest.raises(InputError) as info:
        read_source(folder)
    assert info.value.path == str(folder / "x.csv") and "a folder, not a file" in str(info.value)


def test_xlsx_is_read_without_writing_beside_it(tmp_path: Path) -> None:
    """The workbook is converted in memory: nothing is created (even briefly) in its folder."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Date", "Day", "S1"])
    sheet.append(["2024-01-04", "Thursday", 1.5])
    sheet.append(["2024-01-05", "Friday", -2])
    folder = tmp_path / "ro"
    folder.mkdir()
    book.save(folder / "in.xlsx")
    folder.chmod(0o555)  # refuses writes to a normal user (root ignores it: the mtime tells)
    try:
        stamp = folder.stat().st_mtime_ns
        matrix, _ = read_source(folder / "in.xlsx")
        assert matrix.values.tolist() == [[1.5], [-2.0]]
        assert folder.stat().st_mtime_ns == stamp  # no file was created and removed there
        assert [p.name for p in folder.iterdir()] == ["in.xlsx"]
    finally:
        folder.chmod(0o755)


def test_xlsx_errors_name_the_workbook_row_and_column(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Date", "Day", "S1", "S2"])
    sheet.append(["2024-01-04", "Thursday", 1.5, 2])
    sheet.append(["2024-01-05", "Friday", "n/a?", 3])
    path = tmp_path / "in.xlsx"
    book.save(path)
    with pytest.raises(InputError) as info:
        read_source(path)
    assert (info.value.path, info.value.line, info.value.column) == (str(path), 3, "S1")


def test_unreadable_source_is_a_located_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_source(tmp_path / "missing.csv")


def test_config_is_checked_against_the_data_before_anything_is_written(tmp_path: Path) -> None:
    from stratopt.errors import ConfigError

    src = write(tmp_path, HEADER + ROWS)
    out, report = tmp_path / "out" / "m.parquet", tmp_path / "out" / "ingest.json"
    with pytest.raises(ConfigError, match="max_size 3 is larger than the 2 strategies"):
        ingest(src, out, report, config={"optimize": {"min_size": 1, "max_size": 3}})
    with pytest.raises(ConfigError, match="selects 1 of the 2 sessions"):
        ingest(src, out, report, config={"date_range": {"start": "2024-01-05"}})
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []
    ingest(src, out, report, config={"optimize": {"min_size": 1, "max_size": 2}})
    assert read_matrix(out).shape == (2, 2)


def test_nan_as_the_only_blank_is_read_as_zero(tmp_path: Path) -> None:
    """Found by fuzzing: Arrow's cast reads 'NaN' as NaN, which then looked non-finite."""
    src = write(tmp_path, HEADER + "2024-01-04,Thursday,NaN,1\n2024-01-05,Friday,2,3\n")
    matrix, report = read_source(src)
    assert matrix.values.tolist() == [[0.0, 1.0], [2.0, 3.0]]
    assert report.blank_cells == {"SENSEX 1000-1100 SL7%": 1}


def test_a_bad_byte_is_named_in_its_own_column_despite_quoted_commas(tmp_path: Path) -> None:
    src = write(tmp_path, b'Date,"a,b",c\n2024-01-04,"1\xff",2\n2024-01-05,1,2\n')
    with pytest.raises(InputError) as info:
        read_source(src)
    assert (info.value.line, info.value.column) == (2, "a,b")
