"""Shared fixtures: the real data lives outside the repository, in ../shared/data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("STRATOPT_SHARED_DATA", REPO.parent / "shared" / "data"))
SAMPLE_CSV = SHARED_DATA / "sensex_real_sample_500.csv"
METRICS_CSV = SHARED_DATA / "sensex_strategy_metrics.csv"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(
            f"real data not found at {path}: it is not in the repository (no licence); "
            "put the shared/ folder beside the checkout or set STRATOPT_SHARED_DATA"
        )
    return path


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def real_sample_csv() -> Path:
    """The 500 real strategy series (82 weekly sessions)."""
    return _need(SAMPLE_CSV)


@pytest.fixture(scope="session")
def real_metrics_csv() -> Path:
    """The legacy's per-strategy metrics of all 25,543 production strategies."""
    return _need(METRICS_CSV)


@pytest.fixture(scope="session")
def shared_data() -> Path:
    _need(SAMPLE_CSV)
    _need(METRICS_CSV)
    return SHARED_DATA
