"""Zone mode end to end: zone files in, the zone fitness in the search, zones in the outputs.

The zone files are the twin's (`stratopt synth --zones K`: every date's P&L
split across K zones). The checks lean on independent readers and engines:
stratopt.data.zones.read_zones (pandas) for the zone matrix, stratopt.engine.reference
for ULTA and the zone fitness.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
import yaml

from stratopt.data.ingest import ingest
from stratopt.data.matrix import Matrix, read_matrix
from stratopt.data.zone_ingest import read_zone_csv
from stratopt.data.zone_matrix import read_zone_data, read_zone_values
from stratopt.data.zones import read_zones
from stratopt.db.duckdb_backend import DuckDBDatabase
from stratopt.db.load import load_db
from stratopt.db.prepare import PrepareOutputs, prepare
from stratopt.engine import reference
from stratopt.errors import ConfigError, InputError
from stratopt.legacy.layout import read_text
from workflow_helpers import prepare_workdir, snakemake

WEIGHTS = [1.0, 2.0, 1.0]


@pytest.fixture(scope="module")
def zone_csv(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from stratopt.synth import synth

    out = tmp_path_factory.mktemp("zones") / "zones_twin.csv"
    synth(shared_data, out, seed=11, n_strategies=120, zones=3)
    return out


def test_zone_ingest_equals_the_pandas_zone_reader(zone_csv: Path, tmp_path: Path) -> None:
    matrix = ingest(zone_csv, tmp_path / "matrix.parquet", tmp_path / "ingest.json")
    want = read_zones(zone_csv)
    zones, values = read_zone_values(tmp_path / "matrix.parquet")
    assert zones == want.zones == ["Zone 1", "Zone 2", "Zone 3"]
    np.testing.assert_array_equal(values, want.values)
    np.testing.assert_array_equal(matrix.values, want.values.sum(axis=1))  # the day totals
    assert matrix.labels[0] == "zones_twin" and matrix.days[0] == "Thursday"
    doc = json.loads((tmp_path / "ingest.json").read_text())
    assert doc["zones"] == zones and doc["zone_rows"] == 82 * 3 and doc["strategies"] == 120


def test_zone_rows_are_summed_dropped_and_errors_located(tmp_path: Path) -> None:
    csv = tmp_path / "z.csv"
    csv.write_text(
        "Date,Zone,Day,a,b\n"
        "2024-01-04,Zone B,Thursday,1,2\n"
        "2024-01-04,Zone A,Thursday,3,\n"
        "2024-01-04,Zone A,Thursday,4,5\n"
        "2024-01-04,Outside Market,Thursday,100,100\n"
        "2024-01-05,nan,Friday,100,100\n"
        "2024-01-05,Zone B,Friday,-1,-2\n"
    )
    found = read_zone_csv(csv)
    assert found.zones == ["Zone A", "Zone B"] and found.dropped_rows == 2
    np.testing.assert_array_equal(found.values[0], [[7.0, 5.0], [1.0, 2.0]])
    np.testing.assert_array_equal(found.values[1], [[0.0, 0.0], [-1.0, -2.0]])
    assert found.blank_cells == {"b": 1}
    assert any("pair(s) without a row" in w for w in found.warnings)
    csv.write_text("Date,Zone,Day,a\n2024-01-04,Z,Thu,1\n2024-13-04,Z,Thu,2\n")
    with pytest.raises(InputError, match=r"z.csv, line 3, column 'Date'"):
        read_zone_csv(csv)
    csv.write_text("Date,Zone,Day,a,b\n2024-01-04,Z,Thu,1,x2\n")
    with pytest.raises(InputError, match=r"line 2, column 'b': non-numeric cell 'x2'"):
        read_zone_csv(csv)


def _prepare(matrix_path: Path, out: Path, config: dict) -> dict:
    with DuckDBDatabase(out / "s.duckdb") as db:
        load_db(matrix_path, db, out / "load.json")
        return prepare(db, config, PrepareOutputs.under(out))


@pytest.mark.parametrize("compute", ["numpy", "sql"])
def test_prepare_weights_the_zones_then_inverts(
    zone_csv: Path, tmp_path: Path, compute: str
) -> None:
    ingest(zone_csv, tmp_path / "matrix.parquet")
    zone = {"enabled": True, "weights": WEIGHTS}
    summary = _prepare(
        tmp_path / "matrix.parquet", tmp_path, {"zone": zone, "database": {"compute": compute}}
    )
    assert summary["zone"] == {"enabled": True, "zones": ["Zone 1", "Zone 2", "Zone 3"]} | {
        "weights": [0.25, 0.5, 0.25]
    }
    ref = read_zones(zone_csv, WEIGHTS)
    x = Matrix(ref.dates, [""] * len(ref.dates), ref.names, ref.collapsed())
    want, report = reference.apply_ulta(x)  # ULTA decides on the series the search uses
    got = read_matrix(tmp_path / "prepared.parquet")
    assert got.names == want.names and summary["inverted"] == len(report) > 0
    np.testing.assert_array_equal(got.values, want.values)
    data = read_zone_data(tmp_path / "prepared.parquet")
    np.testing.assert_array_equal(data.collapsed(), got.values)  # M travels inverted with X
    metrics = pd.read_parquet(tmp_path / "strategy_metrics.parquet").set_index("strategy")
    np.testing.assert_allclose(metrics["ROI"], want.values.sum(axis=0), rtol=1e-12)


def test_date_range_and_plain_mode_on_a_zone_file(zone_csv: Path, tmp_path: Path) -> None:
    ingest(zone_csv, tmp_path / "matrix.parquet")
    config = {"zone": {"enabled": True}, "ulta": False, "date_range": {"start": "2025-01-01"}}
    _prepare(tmp_path / "matrix.parquet", tmp_path / "a", config)
    got = read_zone_data(tmp_path / "a" / "prepared.parquet")
    ref = read_zones(zone_csv)  # uniform weights: none given
    keep = ref.dates >= np.datetime64("2025-01-01")
    np.testing.assert_array_equal(got.dates, ref.dates[keep])
    np.testing.assert_array_equal(got.values, ref.values[keep])
    np.testing.assert_allclose(got.weights, [1 / 3] * 3)
    # zone mode off: the sessions' totals, a plain prepared matrix
    _prepare(tmp_path / "matrix.parquet", tmp_path / "b", {"ulta": False})
    plain = read_matrix(tmp_path / "b" / "prepared.parquet")
    np.testing.assert_array_equal(plain.values, ref.values.sum(axis=1))
    assert read_zone_data(tmp_path / "b" / "prepared.parquet") is None


def test_zone_mode_needs_a_zone_file(real_sample_csv: Path, tmp_path: Path) -> None:
    ingest(real_sample_csv, tmp_path / "matrix.parquet")
    with pytest.raises(ConfigError, match="no zones: the input has no Zone column"):
        _prepare(tmp_path / "matrix.parquet", tmp_path, {"zone": {"enabled": True}})


# --- the pipeline ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def zone_run(zone_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = prepare_workdir(tmp_path_factory.mktemp("zone_run"))
    config = {
        "dataset": "zones",
        "input": {"source": str(zone_csv)},
        "zone": {"enabled": True, "weights": WEIGHTS},
        "metric": "ratio",
        "correlation": {"shards": 1},
        "optimize": {"algorithms": ["sa", "rs"], "min_size": 5, "max_size": 6}
        | {"generations": 10, "population": 10, "seed": 3, "workers": 1},
    }
    (work / "zones.yaml").write_text(yaml.safe_dump(config))
    snakemake(work, "--configfile", str(work / "zones.yaml"))
    return work / "results" / "zones"


@pytest.mark.slow  # the whole pipeline through Snakemake
def test_a_zone_twin_runs_through_the_pipeline(zone_run: Path) -> None:
    doc = json.loads((zone_run / "zones.json").read_text())
    assert doc["zone_mode"] is True and doc["weights"] == [0.25, 0.5, 0.25]
    portfolios = pd.read_parquet(zone_run / "portfolios.parquet").set_index("size")
    data = read_zone_data(zone_run / "prepared.parquet")
    for entry in doc["sizes"]:
        row = portfolios.loc[entry["size"]]
        # the search maximised the zone fitness: the reference engine agrees on the winner
        want = reference.zone_fitness(data, row["indices"], metric="ratio")
        assert entry["fitness"] == pytest.approx(want, rel=1e-9)
        assert [z["zone"] for z in entry["zones"]] == data.zones
        total = sum(z["contribution"] for z in entry["zones"])
        assert total == pytest.approx(row["total_roi"], rel=1e-9)
        for z, w in zip(entry["zones"], data.weights, strict=True):
            assert z["contribution"] == pytest.approx(w * z["roi"], rel=1e-12)
    runs = json.loads((zone_run / "runs" / "sa.json").read_text())
    assert runs["zone_mode"] is True
    prepared = json.loads((zone_run / "prepare.json").read_text())
    assert prepared["zone"]["enabled"] is True and prepared["inverted"] > 0
    best = read_text(zone_run / "portfolios" / "optimization_summary.txt")  # legacy layout
    assert int(best.sections["Best Overall Portfolio"]["Size"]) == doc["best_overall"]["size"]


@pytest.mark.slow  # the whole pipeline through Snakemake
def test_zone_outputs_reach_the_database_and_the_report(zone_run: Path) -> None:
    con = duckdb.connect(str(zone_run / "stratopt.duckdb"), read_only=True)
    rows = con.sql('SELECT "size", "zone", "contribution" FROM "portfolio_zones" ORDER BY 1, 2')
    got = rows.fetchall()
    con.close()
    assert [(s, z) for s, z, _ in got] == [(s, f"Zone {i}") for s in (5, 6) for i in (1, 2, 3)]
    assert all(math.isfinite(c) for _, _, c in got)
    html = (zone_run / "report.html").read_text()
    assert 'id="zones"' in html and "Zone mode: each portfolio" in html
    assert "Zone 3" in html and "share of ROI" in html
