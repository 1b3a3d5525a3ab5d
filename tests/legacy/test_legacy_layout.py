"""The files said to be in the legacy layout match the legacy's real files line for line.

The real files are ../shared/data/legacy-outputs (the legacy's production run)
and ../shared/data/sensex_strategy_metrics.csv. One parser
(stratopt.legacy.layout) reads theirs and ours; the structure must be the
same: the same headers in the same order, the same keys, the float's repr for
every number, names with the input file's stem in front, CRLF line endings.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from search_support import write_prepared
from stratopt.data.matrix import read_matrix
from stratopt.legacy import NEWLINE
from stratopt.legacy.inversion import parse_inversion_report
from stratopt.legacy.layout import parse_text, read_text
from stratopt.legacy.metrics_csv import COLUMNS
from stratopt.search.optimize import optimize
from stratopt.search.settings import OptimizeSettings
from stratopt.selection.select import select

STEM = "sensex_real_sample_500"
LEGACY_STEM = "Python_Multi_Consolidated_20250726_161921"


@pytest.fixture(scope="module")
def legacy_outputs(shared_data: Path) -> Path:
    folder = shared_data / "legacy-outputs"
    if not folder.exists():
        pytest.skip(f"{folder} not found (the legacy's real output files)")
    return folder


@pytest.fixture(scope="module")
def ours(real_sample_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """select's legacy folder for a small search of the real sample (prepared with ULTA)."""
    work = tmp_path_factory.mktemp("select")
    prepared = write_prepared(real_sample_csv, work / "prepared.parquet")
    settings = OptimizeSettings(
        min_size=35, max_size=36, generations=10, population=10, metric="ratio"
    )
    runs = optimize(prepared, ["rs", "sa"], settings, work / "runs")
    select(
        prepared,
        [runs["rs"], runs["sa"]],
        work / "portfolios.parquet",
        work / "summary.json",
        work / "portfolios",
        pictures=False,
    )
    return work


def _repr_exact(text: str) -> bool:
    return repr(float(text)) == text


def _lines_end_in_crlf(raw: bytes) -> bool:
    return raw.endswith(b"\r\n") and raw.count(b"\n") == raw.count(b"\r\n")


def test_best_portfolio_has_the_legacy_structure(legacy_outputs: Path, ours: Path) -> None:
    real = [read_text(p) for p in sorted(legacy_outputs.glob("best_portfolio_size*.txt"))]
    assert len(real) == 2
    mine = read_text(ours / "portfolios" / "best_portfolio_size35.txt")
    assert mine.skeleton == real[0].skeleton == real[1].skeleton
    assert list(mine.metrics) == list(real[0].metrics)  # the eight figures, in order
    known = set(read_matrix(ours / "prepared.parquet").names)
    for doc, stem in [(r, LEGACY_STEM) for r in real] + [(mine, STEM)]:
        assert doc.newline == "\r\n"
        assert _repr_exact(doc.fitness_text)
        assert all(_repr_exact(v) for v in doc.sections["Performance Metrics"].values())
        assert len(doc.strategies) == doc.size
        assert all(name.startswith(f"{stem}_SENSEX ") for name in doc.strategies)
    assert all(name.removeprefix(f"{STEM}_") in known for name in mine.strategies)
    raw = (ours / "portfolios" / "best_portfolio_size35.txt").read_bytes()
    assert _lines_end_in_crlf(raw)


def test_summary_has_the_legacy_structure(legacy_outputs: Path, ours: Path) -> None:
    real = read_text(next(legacy_outputs.glob("optimization_summary_*.txt")))
    mine = read_text(ours / "portfolios" / "optimization_summary.txt")
    assert mine.skeleton == real.skeleton
    assert list(mine.sections["Optimization Parameters"]) == list(
        real.sections["Optimization Parameters"]
    )
    assert _lines_end_in_crlf((ours / "portfolios" / "optimization_summary.txt").read_bytes())
    assert len(mine.fields["Run ID"]) == len(real.fields["Run ID"])  # YYYYMMDD_HHMMSS
    assert len(mine.fields["Date"]) == len(real.fields["Date"])  # YYYY-MM-DD HH:MM:SS
    params = mine.sections["Optimization Parameters"]
    assert params["Metric"] == "ratio" and params["Apply ULTA Logic"] == "True"
    assert params["Mutation Rate"] == "0.1" and params["Penalty Factor"] == "1.0"
    assert (params["Min Portfolio Size"], params["Max Portfolio Size"]) == ("35", "36")
    best = mine.sections["Best Overall Portfolio"]
    assert _repr_exact(best["Fitness"]) and best["Method"] in ("RS", "SA")
    assert len(mine.strategies) == int(best["Size"])
    assert all(name.startswith(f"{STEM}_") for name in mine.strategies)


def test_source_date_epoch_fixes_the_run_stamp(monkeypatch: pytest.MonkeyPatch) -> None:
    from stratopt.legacy.layout import RunStamp

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1753547653")
    assert RunStamp.now() == RunStamp("20250726_163413", "2025-07-26 16:34:13")


def test_the_parser_refuses_other_layouts() -> None:
    """stratopt's former layout ('Strategies:', indented metrics) is not the legacy's."""
    old = "Best Portfolio (Size 2) - Method: GA\nFitness: 1.500000\n\nPerformance Metrics:\n"
    old += "  total_roi: 3.000000\n\nStrategies:\n1. a\n2. b\n"
    with pytest.raises(ValueError, match="line 5"):
        parse_text(old)
    with pytest.raises(ValueError, match="not a legacy report title"):
        parse_text("Optimization Summary\n")


# --- strategy_metrics.csv and the inversion report, from the prepare stage --------------


@pytest.fixture(scope="module")
def prepared_dir(real_sample_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from stratopt.data.ingest import read_source
    from stratopt.db.duckdb_backend import DuckDBDatabase
    from stratopt.db.load import load_matrix
    from stratopt.db.prepare import PrepareOutputs, prepare

    folder = tmp_path_factory.mktemp("prepare")
    with DuckDBDatabase(folder / "s.duckdb") as db:
        load_matrix(db, read_source(real_sample_csv)[0])
        prepare(db, {"ulta": True}, PrepareOutputs.under(folder))
    return folder


def _metrics_csv_rows(raw: bytes) -> tuple[list[str], list[list[str]]]:
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
    return rows[0], rows[1:]


def test_metrics_csv_has_the_legacy_structure(real_metrics_csv: Path, prepared_dir: Path) -> None:
    real = real_metrics_csv.read_bytes()
    mine = (prepared_dir / "strategy_metrics.csv").read_bytes()
    assert mine.split(b"\r\n", 1)[0] == real.split(b"\r\n", 1)[0]  # ",ROI,Max Drawdown,..."
    for raw, stem in ((real, LEGACY_STEM), (mine, STEM)):
        assert _lines_end_in_crlf(raw)
        header, rows = _metrics_csv_rows(raw)
        assert header == ["", *COLUMNS]
        assert all(len(r) == 6 and r[0].startswith(f"{stem}_SENSEX ") for r in rows)
        assert all(_repr_exact(cell) for r in rows for cell in r[1:])
    _, rows = _metrics_csv_rows(mine)
    table = pd.read_parquet(prepared_dir / "strategy_metrics.parquet")
    assert [r[0] for r in rows] == [f"{STEM}_{n}" for n in table["strategy"]]
    assert any(r[0].endswith("_inv") for r in rows)  # as the search sees them
    got = np.array([[float(c) for c in r[1:]] for r in rows])
    np.testing.assert_array_equal(got, table[list(COLUMNS)].to_numpy())  # repr: every bit


def test_inversion_report_has_the_legacy_layout(prepared_dir: Path) -> None:
    raw = (prepared_dir / "inversion_report.md").read_bytes()
    assert _lines_end_in_crlf(raw)
    assert raw.startswith(
        b"# Inversion Report\r\n\r\n"
        b"The following strategies had their returns inverted based on ULTA logic:\r\n## "
    )
    entries = parse_inversion_report(raw.decode("utf-8"))
    table = pd.read_parquet(prepared_dir / "inversion.parquet")
    assert list(entries["strategy"]) == [f"{STEM}_{n}" for n in table["strategy"]]
    for col in entries.columns[1:]:
        np.testing.assert_allclose(entries[col], table[col], rtol=0, atol=0.005 + 1e-9)  # .2f
    block = raw.decode("utf-8").split(NEWLINE)[3:11]
    assert [line.split(":**")[0] for line in block[1:7]] == [
        "- **Original ROI",
        "- **Inverted ROI",
        "- **Original Drawdown",
        "- **Inverted Drawdown",
        "- **Original Ratio",
        "- **Inverted Ratio",
    ]
    assert block[7] == ""  # a blank line closes every entry
