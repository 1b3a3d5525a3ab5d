"""Ingest: a wide P&L CSV (or XLSX, or a folder of them) into a validated Matrix.

The readers: daily CSV text (stratopt.data.csv_text), XLSX (re-serialised as
CSV text here), a folder of either (merged on Date), and zone files
(stratopt.data.zone_ingest, chosen by their Zone column). `ingest` writes
matrix.parquet and ingest.json, both or neither.
"""

from __future__ import annotations

import csv
import io
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from stratopt import contracts
from stratopt.data.csv_text import (
    CSV_SUFFIXES,
    FIRST_DATA_LINE,
    check_names,
    parse_csv,
    read_bytes,
    read_csv,
)
from stratopt.data.ingest_report import IngestReport, source_record
from stratopt.data.matrix import Matrix, write_matrix
from stratopt.data.zone_ingest import ingest_zones, is_zone_file
from stratopt.errors import InputError
from stratopt.runtime.atomic import atomic_path, write_json
from stratopt.runtime.config_checks import check_against_data

log = logging.getLogger(__name__)

EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
#: Fewer sessions than this leave no drawdown and no correlation to measure.
MIN_SESSIONS = 2


# -------------------------------------------------------------------------- XLSX


def read_excel(path: Path, report: IngestReport) -> Matrix:
    """XLSX through openpyxl: cells are re-serialised as CSV text (in memory) and validated.

    Sheet row k is CSV line k, so errors name the workbook's own rows.
    """
    data = read_bytes(path)  # a folder or an unreadable file gets the CSV path's clear error
    try:
        from openpyxl import load_workbook

        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            sheet = book.worksheets[0]
            rows = list(sheet.iter_rows(values_only=True))
        finally:
            book.close()
    except Exception as exc:  # openpyxl (and zipfile) raise many kinds for a bad file
        raise InputError(path, f"cannot read as XLSX: {exc}", expected="an .xlsx workbook") from exc
    if not rows:
        raise InputError(path, "empty workbook", expected="a header row and data rows")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for lineno, row in enumerate(rows, start=1):
        cells = [_excel_cell(v) for v in row]
        if any("\n" in c or "\r" in c for c in cells):
            col = next(i for i, c in enumerate(cells) if "\n" in c or "\r" in c)
            raise InputError(
                path, f"a line break inside cell {col + 1}", line=lineno, expected="one-line cells"
            )
        writer.writerow(cells)
    return parse_csv(buffer.getvalue().encode("utf-8", errors="surrogatepass"), path, report)


def _excel_cell(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "date") and hasattr(value, "isoformat"):
        return value.date().isoformat() if hasattr(value, "hour") else value.isoformat()
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    return str(value)


# ----------------------------------------------------------------------- sources


def read_file(path: Path, report: IngestReport) -> Matrix:
    if path.is_dir():
        raise InputError(path, "a folder, not a file (sub-folders are not read)")
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        matrix = read_csv(path, report)
    elif suffix in EXCEL_SUFFIXES:
        matrix = read_excel(path, report)
    else:
        raise InputError(
            path, f"unsupported file type {suffix or '(none)'!r}", expected="a .csv or .xlsx file"
        )
    report.sources.append(source_record(path))
    return matrix


def merge_on_date(parts: list[tuple[str, Matrix]], report: IngestReport) -> Matrix:
    """Outer-join several files on Date, names prefixed with the file stem.

    A date missing from one file gives that file's strategies blanks, which
    become 0 with a warning (the legacy's rule for missing cells).
    """
    all_dates = np.unique(np.concatenate([m.dates for _, m in parts]))
    day_of: dict[np.datetime64, str] = {}
    for _, m in parts:
        for d, day in zip(m.dates, m.days, strict=True):
            day_of.setdefault(d, day)
    blocks: list[np.ndarray] = []
    names: list[str] = []
    labels: list[str] = []
    for stem, m in parts:
        block = np.zeros((len(all_dates), m.n_strategies))
        rows = np.searchsorted(all_dates, m.dates)
        block[rows] = m.values
        absent = len(all_dates) - m.n_days
        if absent:
            report.warn(
                f"{stem}: {absent} date(s) absent from this file; its strategies read 0 there"
            )
            for name in m.names:
                report.blank_cells[f"{stem}_{name}"] = absent
        blocks.append(block)
        names.extend(f"{stem}_{name}" for name in m.names)
        labels.extend([stem] * m.n_strategies)
    return Matrix(
        dates=all_dates,
        days=[day_of[d] for d in all_dates],
        names=names,
        values=np.hstack(blocks),
        labels=labels,
    )


def read_source(
    source: str | Path, report: IngestReport | None = None
) -> tuple[Matrix, IngestReport]:
    """A file, or a folder whose CSV/XLSX files are merged on Date."""
    report = report or IngestReport()
    path = Path(source)
    files = source_files(path)
    if path.is_dir():
        parts = [(f.stem, read_file(f, report)) for f in files]
        matrix = merge_on_date(parts, report)
        check_names(matrix.names, path)
    else:
        matrix = read_file(path, report)
        matrix = Matrix(
            dates=matrix.dates,
            days=matrix.days,
            names=matrix.names,
            values=matrix.values,
            labels=[path.stem] * matrix.n_strategies,
        )
    if matrix.n_days < MIN_SESSIONS:
        raise InputError(
            files[0] if len(files) == 1 else path,
            f"{matrix.n_days} data row: a drawdown and a correlation need at least "
            f"{MIN_SESSIONS} sessions",
            line=FIRST_DATA_LINE + matrix.n_days,
            expected=f"at least {MIN_SESSIONS} rows of P&L",
        )
    return matrix, report


def source_files(path: Path) -> list[Path]:
    """The files ingest reads: `path` itself, or the CSV/XLSX files of a folder (by name)."""
    if not path.exists():
        raise InputError(path, "no such file or folder")
    if not path.is_dir():
        return [path]
    try:
        entries = list(path.iterdir())
    except OSError as exc:
        raise InputError(path, f"cannot list the folder: {exc.strerror or exc}") from None
    files = sorted(
        p
        for p in entries
        if p.suffix.lower() in CSV_SUFFIXES | EXCEL_SUFFIXES and not p.name.startswith(".")
    )
    if not files:
        raise InputError(path, "folder holds no .csv or .xlsx file")
    return files


def _check_outputs(source: Path, outputs: list[Path]) -> None:
    """Refuse an output that would overwrite a source (or the other output)."""
    sources = source_files(source)
    resolved = [o.resolve() for o in outputs]
    if len(set(resolved)) < len(resolved):
        raise InputError(outputs[0], "the matrix and the report would be the same file")
    for out, res in zip(outputs, resolved, strict=True):
        for src in sources:
            if res == src.resolve() or (out.exists() and out.samefile(src)):
                raise InputError(
                    out,
                    f"this output is the source {src}: writing it would destroy the input",
                    expected="an output path other than the source",
                )


def ingest(
    source: str | Path,
    matrix_out: str | Path,
    report_out: str | Path | None = None,
    config: Mapping[str, Any] | None = None,
) -> Matrix:
    """Validate `source`, then write matrix.parquet and ingest.json (atomically, both or neither).

    With a pipeline `config`, also check that it fits the data (sizes against
    the strategies, the date range against the dates) before writing anything.
    """
    _check_outputs(Path(source), [Path(p) for p in (matrix_out, report_out) if p is not None])
    if is_zone_file(source):  # (Date, Zone, Day) rows: docs/zones.md
        return ingest_zones(source, matrix_out, report_out)
    matrix, report = read_source(source)
    if config is not None:
        check_against_data(config, matrix.n_strategies, matrix.dates, str(source))
    if report_out is None:
        write_matrix(matrix, matrix_out)
    else:
        # Both temporaries are complete before either replaces an earlier output.
        with atomic_path(matrix_out) as tmp_matrix, atomic_path(report_out) as tmp_report:
            write_matrix(matrix, tmp_matrix)
            write_json(tmp_report, contracts.INGEST.checked(report.to_dict(matrix)))
    log.info("ingested %d days x %d strategies from %s", matrix.n_days, matrix.n_strategies, source)
    return matrix
