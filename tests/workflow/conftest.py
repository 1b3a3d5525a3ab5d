"""One real run of the small workload, shared by the tests that read its outputs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from workflow_helpers import prepare_workdir, small_config_args, snakemake


@pytest.fixture(scope="session")
def small_run(
    tmp_path_factory: pytest.TempPathFactory, real_sample_csv: Path
) -> Iterator[tuple[Path, list[str]]]:
    """(working directory, config arguments) of the CI workload run end to end, every rule
    profiled (STRATOPT_PROFILE=1: the profiles are part of what the report shows)."""
    work = prepare_workdir(tmp_path_factory.mktemp("small_run"))
    args = small_config_args(real_sample_csv)
    before = os.environ.get("STRATOPT_PROFILE")
    os.environ["STRATOPT_PROFILE"] = "1"
    try:
        snakemake(work, *args)
    finally:
        if before is None:
            os.environ.pop("STRATOPT_PROFILE")
        else:
            os.environ["STRATOPT_PROFILE"] = before
    yield work, args
