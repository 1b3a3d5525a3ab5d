"""Config meaning checked before any stage (issue 17, case 7): the checks themselves."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest

from stratopt.errors import ConfigError
from stratopt.runtime.config_checks import (
    check_against_data,
    check_against_ingest,
    check_config,
    config_problems,
    dataset_name,
    dates_as_text,
)

DATES = ["2024-01-04", "2024-01-08", "2024-01-11"]


def test_a_sound_config_has_no_problems() -> None:
    config = {
        "optimize": {"min_size": 5, "max_size": 8, "seed": 0, "algorithms": ["ga", "RS"]},
        "date_range": {"start": "2024-01-01", "end": None},
    }
    assert config_problems(config) == []
    check_against_data(config, 10, DATES, "x.csv")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"optimize": {"min_size": 9, "max_size": 5}}, "min_size 9 is larger than"),
        ({"optimize": {"seed": -1}}, "seed must be >= 0"),
        ({"optimize": {"algorithms": ["ga", "gaa"]}}, "unknown 'gaa'"),
        ({"optimize": {"algorithms": []}}, "at least one algorithm"),
        ({"optimize": {"algorithms": ["ga", "GA"]}}, "ga more than once"),
        ({"date_range": {"start": "2024-13-01"}}, "is not a date"),
        ({"date_range": {"start": "01/02/2024"}}, "is not a date"),
        ({"date_range": {"start": "2024-05-01", "end": "2024-02-01"}}, "is after"),
    ],
)
def test_each_problem_is_named(config: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_config(config)


def test_every_problem_is_listed_at_once() -> None:
    config = {"optimize": {"min_size": 9, "max_size": 5, "seed": -2}}
    assert len(config_problems(config)) == 2


def test_yaml_dates_become_text() -> None:
    config = {"date_range": {"start": dt.date(2024, 5, 1), "end": "2024-06-01"}}
    dates_as_text(config)
    assert config["date_range"] == {"start": "2024-05-01", "end": "2024-06-01"}


def test_sizes_and_dates_against_the_data() -> None:
    with pytest.raises(ConfigError, match="max_size 11 is larger than the 10 strategies of x.csv"):
        check_against_data({"optimize": {"max_size": 11}}, 10, DATES, "x.csv")
    with pytest.raises(ConfigError, match="selects 0 of the 3 sessions"):
        check_against_data({"date_range": {"start": "2030-01-01"}}, 10, DATES, "x.csv")
    with pytest.raises(ConfigError, match="selects 1 of the 3 sessions"):
        check_against_data({"date_range": {"end": "2024-01-05"}}, 10, DATES, "x.csv")


def test_the_last_ingest_is_used_only_when_current(tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("x")
    report = tmp_path / "ingest.json"
    names = [f"s{i}" for i in range(10)]
    doc = {"rows": 3, "strategies": 10, "first_date": DATES[0], "last_date": DATES[-1]}
    doc |= {"dates": DATES, "days": ["Thursday", "Monday", "Thursday"], "names": names}
    doc |= {"periods_per_year": 52.0, "sources": [], "blank_cells_total": 0}
    report.write_text(json.dumps(doc | {"blank_cells": {}, "warnings": []}))
    too_big = {"optimize": {"max_size": 50}}
    os.utime(source, (1_000, 1_000))
    os.utime(report, (2_000, 2_000))
    with pytest.raises(ConfigError, match="larger than the 10 strategies"):
        check_against_ingest(too_big, report, source)
    os.utime(source, (3_000, 3_000))  # the source changed since: ingest will check it
    assert check_against_ingest(too_big, report, source) is False
    assert check_against_ingest(too_big, tmp_path / "none.json", source) is False
    os.utime(report, (4_000, 4_000))
    report.write_text(json.dumps({"strategies": 10, "dates": DATES}))  # breaks its contract
    os.utime(report, (4_000, 4_000))
    assert check_against_ingest(too_big, report, source) is False  # ingest will check


@pytest.mark.parametrize(
    ("config", "name"),
    [
        ({"dataset": "mine", "input": {"source": "data/pnl.csv"}}, "mine"),
        ({"dataset": None, "input": {"source": "synthetic"}}, "twin"),
        ({"input": {}}, "twin"),
        ({"dataset": None, "input": {"source": "data/pnl.csv"}}, "pnl"),
        ({"dataset": None, "input": {"source": "data/Book 1.XLSX"}}, "Book_1"),
        ({"dataset": None, "input": {"source": "data/north.v2/"}}, "north.v2"),  # a folder
        ({"dataset": None, "input": {"source": "(weird)"}}, "weird"),
    ],
)
def test_a_run_is_named_after_its_input(config: dict, name: str) -> None:
    assert dataset_name(config) == name


def test_a_folder_named_like_nothing_still_names_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "+++"
    folder.mkdir()
    assert dataset_name({"input": {"source": str(folder)}}) == "input"
    (tmp_path / "plain").mkdir()
    monkeypatch.chdir(tmp_path / "plain")
    assert dataset_name({"input": {"source": "."}}) == "plain"  # the folder's own name
