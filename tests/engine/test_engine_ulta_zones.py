"""ULTA's decisions and report files; the zone loader."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from engine_support import load_sample
from stratopt.data.matrix import Matrix
from stratopt.data.zones import normalise_weights, read_zones, zones_from_frame
from stratopt.engine import reference, ulta
from stratopt.errors import InputError


def _matrix(values: np.ndarray) -> Matrix:
    t, n = values.shape
    return Matrix(
        dates=np.arange(t).astype("datetime64[D]"),
        days=[""] * t,
        names=[f"s{i}" for i in range(n)],
        values=values,
        labels=[f"f{i % 2}" for i in range(n)],
    )


def test_every_losing_strategy_is_inverted_and_moved_to_the_end():
    values = np.array(
        [[1.0, -2.0, 0.0, -1.0, 2.0], [2.0, -1.0, 0.0, 0.5, -1.0], [-1.0, 1.0, 0.0, -3.0, -0.5]]
    )
    for engine in (reference.apply_ulta, ulta.apply_ulta):
        out, report = engine(_matrix(values))
        assert out.names == ["s0", "s2", "s4", "s1_inv", "s3_inv"]
        assert out.labels == ["f0", "f0", "f0", "f1", "f1"]
        np.testing.assert_array_equal(out.values[:, 3], -values[:, 1])
        np.testing.assert_array_equal(out.values[:, 4], -values[:, 3])
        assert list(report["strategy"]) == ["s1", "s3"]
        row = report.iloc[1]
        assert row["original_roi"] == -3.5 and row["inverted_roi"] == 3.5
        assert row["original_worst_day"] == -3.0 and row["inverted_worst_day"] == -0.5
        assert row["original_ratio"] == pytest.approx(-3.5 / 3.0)
        assert row["inverted_ratio"] == pytest.approx(7.0)


def test_ulta_ratio_rules():
    assert reference.ulta_ratio(5.0, 0.0) == math.inf
    assert reference.ulta_ratio(0.0, 0.0) == math.inf  # legacy: no losing day -> inf
    # an all-zero strategy is kept (ratio inf); a losing one whose best day is 0 is
    # inverted with an infinite inverted ratio (its inverted worst day is 0)
    values = np.array([[0.0, -1.0], [0.0, 0.0]])
    out, report = ulta.apply_ulta(_matrix(values))
    assert out.names == ["s0", "s1_inv"]
    assert report.loc[0, "inverted_ratio"] == math.inf


def test_ulta_on_real_sample_matches_legacy_rule(real_sample_csv):
    sample = load_sample(real_sample_csv)
    out, report = ulta.apply_ulta(sample)
    losing = [n for n, r in zip(sample.names, sample.values.sum(axis=0), strict=True) if r < 0]
    assert list(report["strategy"]) == losing
    assert (out.values.sum(axis=0) >= 0).all()
    assert out.n_strategies == sample.n_strategies


def test_inversion_report_files(tmp_path):
    values = np.array([[1.0, -2.0], [-1.0, -1.0]])
    _, report = ulta.apply_ulta(_matrix(values))
    md = tmp_path / "inversion_report.md"
    pq_path = tmp_path / "inversion.parquet"
    ulta.write_inversion_report(report, md, pq_path, legacy_names=["stem_s1"])
    assert md.read_bytes() == (  # the legacy's layout, CRLF as it wrote it
        b"# Inversion Report\r\n\r\n"
        b"The following strategies had their returns inverted based on ULTA logic:\r\n"
        b"## stem_s1\r\n"
        b"- **Original ROI:** -3.00\r\n- **Inverted ROI:** 3.00\r\n"
        b"- **Original Drawdown:** -2.00\r\n- **Inverted Drawdown:** 1.00\r\n"
        b"- **Original Ratio:** -1.50\r\n- **Inverted Ratio:** 3.00\r\n"
    )
    back = pq.read_table(pq_path).to_pandas()
    assert list(back.columns) == reference.REPORT_COLUMNS
    pd.testing.assert_frame_equal(back, report.reset_index(drop=True), check_dtype=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "inversion.parquet",
        "inversion_report.md",
    ]
    with pytest.raises(ValueError, match="lacks"):
        ulta.write_inversion_report(report.drop(columns="inverted_ratio"), md, pq_path)


def test_zone_loader_sums_sorts_and_drops(tmp_path):
    csv = tmp_path / "zones.csv"
    csv.write_text(
        "Date,Zone,Day,a,b\n"
        "2024-01-04,Zone B,Thursday,1,2\n"
        "2024-01-04,Zone A,Thursday,3,\n"
        "2024-01-04,Zone A,Thursday,4,5\n"
        "2024-01-04,Outside Market,Thursday,100,100\n"
        "2024-01-05,nan,Friday,100,100\n"
        "2024-01-05,,Friday,100,100\n"
        "2024-01-05,Zone B,Friday,-1,-2\n"
    )
    z = read_zones(csv, weights=[3.0, 1.0])
    assert z.zones == ["Zone A", "Zone B"]
    assert z.names == ["a", "b"]
    np.testing.assert_array_equal(
        z.dates, np.array(["2024-01-04", "2024-01-05"], dtype="datetime64[D]")
    )
    np.testing.assert_array_equal(z.values[0], [[7.0, 5.0], [1.0, 2.0]])
    np.testing.assert_array_equal(z.values[1], [[0.0, 0.0], [-1.0, -2.0]])
    np.testing.assert_allclose(z.weights, [0.75, 0.25])
    np.testing.assert_allclose(z.collapsed(), [[5.5, 4.25], [-0.25, -0.5]])


def test_zone_weights_fall_back_to_uniform():
    np.testing.assert_allclose(normalise_weights(None, 4), [0.25] * 4)
    np.testing.assert_allclose(normalise_weights([1.0, 2.0], 3), [1 / 3] * 3)
    np.testing.assert_allclose(normalise_weights([1.0, 1.0, 2.0], 3), [0.25, 0.25, 0.5])


def test_zone_loader_reports_bad_input(tmp_path):
    frame = pd.DataFrame(
        {"Date": ["2024-01-04", "someday"], "Zone": ["A", "A"], "Day": ["", ""], "s": [1, 2]}
    )
    with pytest.raises(InputError, match="line 3.*Date"):
        zones_from_frame(frame, source="z.csv")
    with pytest.raises(InputError, match="Zone"):
        zones_from_frame(frame.drop(columns="Zone"), source="z.csv")
