"""The production twin (issue 3): layout, marginals, dependence, zones, determinism.

Fast tests use seeded prefixes of the twin (a prefix is exactly the first
columns of the full twin); the slow one generates and checks the full file.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from stratopt.cli import main
from stratopt.errors import InputError
from stratopt.synth import dependence, generate_twin, split_zones, zone_names
from stratopt.synth.reference import FIRST_STRATEGY, NAME_PREFIX, load_reference
from workflow_helpers import prepare_workdir, snakemake

PRODUCTION_BYTES = 39_201_813
N_STRATEGIES = 25_544


@pytest.fixture(scope="module")
def ref(shared_data: Path):
    return load_reference(shared_data)


@pytest.fixture(scope="module")
def metrics(real_metrics_csv: Path) -> pd.DataFrame:
    m = pd.read_csv(real_metrics_csv, index_col=0)
    m.index = [i.removeprefix(NAME_PREFIX) for i in m.index]
    return m


def write(tmp: Path, name: str, *args: str) -> Path:
    out = tmp / name
    assert main(["synth", "--out", str(out), *args]) == 0
    return out


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path)


def legacy_metrics(x: np.ndarray) -> pd.DataFrame:
    """The legacy per-strategy metrics (docs/legacy-semantics.md) of T x N series, written plainly."""
    t = x.shape[0]
    eq = np.cumsum(x, axis=0)
    pos, neg = np.where(x > 0, x, 0.0), np.where(x < 0, x, 0.0)
    n_pos, n_neg = (x > 0).sum(axis=0), (x < 0).sum(axis=0)
    win = n_pos / t
    mean_pos = np.divide(pos.sum(0), n_pos, out=np.zeros(x.shape[1]), where=n_pos > 0)
    mean_neg = np.divide(-neg.sum(0), n_neg, out=np.zeros(x.shape[1]), where=n_neg > 0)
    return pd.DataFrame(
        {
            "ROI": x.sum(axis=0),
            "Max Drawdown": (np.maximum.accumulate(eq, axis=0) - eq).max(axis=0),
            "Win Percentage": win,
            "Profit Factor": pos.sum(0) / -neg.sum(0),
            "Expectancy": win * mean_pos - (1 - win) * mean_neg,
        }
    )


def check_marginals(df: pd.DataFrame, metrics: pd.DataFrame) -> None:
    names = [c for c in df.columns[2:] if c in metrics.index]
    assert len(names) == len(df.columns) - 2 - (FIRST_STRATEGY in df.columns)
    got = legacy_metrics(df[names].to_numpy())
    want = metrics.loc[names].reset_index(drop=True)
    for col in ("ROI", "Win Percentage", "Profit Factor", "Expectancy"):
        rel = np.abs(got[col] - want[col]) / np.abs(want[col])
        assert rel.max() <= 1e-6, (col, names[int(rel.argmax())], rel.max())
    mdd = np.abs(got["Max Drawdown"] / want["Max Drawdown"] - 1)
    assert np.mean(mdd <= 0.05) >= 0.95, np.mean(mdd <= 0.05)
    assert np.mean(mdd <= 0.15) >= 0.99, np.mean(mdd <= 0.15)
    zero = df[df.columns[2:]].to_numpy() == 0
    assert not zero[:-1].any()  # as in the real file, zero days only on the last date


def check_dependence(names: list[str], values: np.ndarray, ref) -> dependence.Dependence:
    real = dependence.measure(ref.sample_names, ref.sample_values, grid=ref.names)
    twin = dependence.measure(names, values, grid=ref.names)
    for kind in ("within_window", "across_window"):
        r, t = getattr(real, kind), getattr(twin, kind)
        assert abs(t.median - r.median) <= 0.1, (kind, t, r)
        assert abs(t.iqr - r.iqr) <= 0.1, (kind, t, r)
    return twin


def test_layout_names_dates_and_prefix(tmp_path: Path, ref, real_sample_csv: Path, metrics) -> None:
    small = read(write(tmp_path, "a.csv", "--seed", "3", "--strategies", "120"))
    larger = read(write(tmp_path, "b.csv", "--seed", "3", "--strategies", "400"))
    sample = pd.read_csv(real_sample_csv, usecols=["Date", "Day"])
    assert list(small.columns[:3]) == ["Date", "Day", FIRST_STRATEGY]
    assert list(small.columns[3:]) == list(metrics.index[:119])
    assert small["Date"].tolist() == sample["Date"].tolist()
    assert small["Day"].tolist() == sample["Day"].tolist()
    assert len(small) == 82
    pd.testing.assert_frame_equal(small, larger[small.columns])  # a prefix of the twin


def test_marginals_on_a_slice(tmp_path: Path, ref, metrics) -> None:
    df = read(write(tmp_path, "twin.csv", "--seed", "11", "--strategies", "3000"))
    check_marginals(df, metrics)
    first = legacy_metrics(df[[FIRST_STRATEGY]].to_numpy()).iloc[0]
    donor = metrics.loc[ref.borrowed_from]
    assert first["ROI"] == pytest.approx(donor["ROI"], rel=1e-9)


def test_real_series_appear_verbatim(ref) -> None:
    twin = generate_twin(ref, 5, 2000)
    pos = {n: i for i, n in enumerate(twin.names)}
    shared = [(pos[n], j) for j, n in enumerate(ref.sample_names) if n in pos]
    assert shared
    for i, j in shared:
        np.testing.assert_array_equal(twin.values[:, i], ref.sample_values[:, j])


@pytest.mark.slow  # the full production-shaped twin (25,544 strategies)
def test_dependence_of_the_full_twin_in_memory(ref) -> None:
    # a prefix is no fair sample of exit rules (the production order groups them), so all of it
    twin = generate_twin(ref, 20250726)
    check_dependence(twin.names, twin.values, ref)


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = write(tmp_path, "a.csv", "--seed", "42", "--strategies", "300").read_bytes()
    b = write(tmp_path, "b.csv", "--seed", "42", "--strategies", "300").read_bytes()
    c = write(tmp_path, "c.csv", "--seed", "43", "--strategies", "300").read_bytes()
    assert a == b
    assert a != c
    assert a.split(b"\n", 1)[0] == c.split(b"\n", 1)[0]  # same names, other numbers


def test_zone_rows_sum_to_the_daily_twin(tmp_path: Path) -> None:
    daily = read(write(tmp_path, "d.csv", "--seed", "9", "--strategies", "250"))
    zoned = read(write(tmp_path, "z.csv", "--seed", "9", "--strategies", "250", "--zones", "3"))
    assert list(zoned.columns[:3]) == ["Date", "Zone", "Day"]
    assert list(zoned.columns[3:]) == list(daily.columns[2:])
    assert len(zoned) == 3 * len(daily)
    assert sorted(set(zoned["Zone"])) == zone_names(3)
    summed = zoned.groupby("Date", sort=False)[list(daily.columns[2:])].sum()
    np.testing.assert_allclose(
        summed.to_numpy(), daily[daily.columns[2:]].to_numpy(), rtol=1e-12, atol=1e-9
    )
    assert zoned.groupby("Date", sort=False)["Day"].first().tolist() == daily["Day"].tolist()


def test_zone_names_sort_numerically() -> None:
    names = zone_names(12)
    assert names == sorted(names) and names[0] == "Zone 01" and len(names) == 12


def test_split_zones_is_prefix_stable() -> None:
    x = np.arange(1.0, 13.0).reshape(3, 4)
    full = split_zones(x, 2, seed=1, total=10)
    part = split_zones(x[:, :2], 2, seed=1, total=10)
    np.testing.assert_array_equal(full[:, :, :2], part)


def test_bad_reference_data_names_file_line_and_column(
    tmp_path: Path, real_sample_csv: Path
) -> None:
    shutil.copy(real_sample_csv, tmp_path / real_sample_csv.name)
    bad = tmp_path / "sensex_strategy_metrics.csv"
    bad.write_text(
        ",ROI,Max Drawdown,Win Percentage,Profit Factor,Expectancy\n"
        f"{NAME_PREFIX}SENSEX 1000-1100 SL9%,100.0,50.0,0.5,1.2,1.2195\n"
        f"{NAME_PREFIX}SENSEX 1000-1100 SL11%,abc,50.0,0.5,1.2,1.2195\n"
    )
    with pytest.raises(InputError) as err:
        load_reference(tmp_path)
    assert err.value.path == str(bad) and err.value.line == 3 and err.value.column == "ROI"
    assert (
        main(
            [
                "synth",
                "--seed",
                "1",
                "--out",
                str(tmp_path / "x.csv"),
                "--reference-data",
                str(tmp_path),
            ]
        )
        == 2
    )
    assert not (tmp_path / "x.csv").exists()


@pytest.mark.slow  # the synth job through Snakemake
def test_snakemake_rule_writes_source_path(tmp_path: Path, shared_data: Path) -> None:
    work = prepare_workdir(tmp_path)
    target = "results/twin-data/twin_seed5_n60.csv"
    snakemake(work, target, "--config", f"input={{'reference_data': '{shared_data}'}}")
    assert (
        main(
            [
                "synth",
                "--seed",
                "5",
                "--strategies",
                "60",
                "--out",
                str(tmp_path / "cli.csv"),
                "--reference-data",
                str(shared_data),
            ]
        )
        == 0
    )
    assert (work / target).read_bytes() == (tmp_path / "cli.csv").read_bytes()


@pytest.mark.slow
def test_full_twin(tmp_path: Path, ref, metrics) -> None:
    path = write(tmp_path, "twin.csv", "--seed", "20250726")
    size = path.stat().st_size
    assert abs(size / PRODUCTION_BYTES - 1) <= 0.05, size
    df = read(path)
    assert df.shape == (82, 2 + N_STRATEGIES)
    assert df.columns[2] == FIRST_STRATEGY and list(df.columns[3:]) == list(metrics.index)
    check_marginals(df, metrics)
    check_dependence(list(df.columns[2:]), df[df.columns[2:]].to_numpy(), ref)
